// Settings and profile as WatermelonDB tables: two devices of one user edit their one record.
// Usage: node watermelon_settings.mjs URL USER_ID TOKEN_PHONE TOKEN_TABLET
// Prints one JSON line: what each device holds after each round, and any complaints.
import { Device, captureSyncComplaints } from "./watermelon_client.mjs";

const [url, userId, tokenA, tokenB] = process.argv.slice(2);
const complaints = captureSyncComplaints();
const phone = new Device("phone", url, tokenA);
const tablet = new Device("tablet", url, tokenB);
const result = {};

try {
  await phone.sync();
  await tablet.sync();
  result.first = { phone: await phone.rows("settings"), tablet: await tablet.rows("settings") };

  await phone.update("settings", userId, { theme: "dark", bgm_on: false });
  await phone.sync();
  await tablet.sync();
  result.after_phone = { phone: await phone.rows("settings"), tablet: await tablet.rows("settings") };

  // Both edit offline; the tablet syncs second, so it pulls the phone's change first.
  await phone.update("settings", userId, { card_skin: "gold" });
  await tablet.update("settings", userId, { se_on: false });
  await phone.sync();
  await tablet.sync();
  await phone.sync();
  result.after_both = { phone: await phone.rows("settings"), tablet: await tablet.rows("settings") };

  // The profile record travels the same way.
  result.profile_first = { phone: await phone.rows("profile"), tablet: await tablet.rows("profile") };
  await phone.update("profile", userId, { nickname: "River", country: "JP" });
  await phone.sync();
  await tablet.sync();
  result.profile_after_phone = await tablet.rows("profile");
  result.push_statuses = { phone: phone.pushStatus, tablet: tablet.pushStatus };
} catch (err) {
  result.error = String(err?.stack ?? err);
}
result.complaints = complaints;
console.log(JSON.stringify(result));
process.exit(0);
