// Several sockets of one user (one per listed transport) record, in arrival order, the `k` of
// every "probe:event"; each finishes at "probe:end". Usage:
// node fastpath_order.mjs URL TOKEN websocket,polling,... → one JSON line {sockets:[{id,transport,ks}]}.
import { io } from "socket.io-client";

const [url, token, transports] = process.argv.slice(2);
const sockets = [];
const out = { sockets: [] };
let ended = 0;
const finish = (code) => { for (const s of sockets) s.close(); process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(code)); };
setTimeout(() => { out.error = "timeout"; finish(1); }, 40000);

for (const transport of transports.split(",")) {
  const rec = { id: null, transport, ks: [] };
  out.sockets.push(rec);
  const s = io(url, { transports: [transport], auth: { token, device_id: "dev-1" },
                      reconnection: false, forceNew: true, timeout: 5000 });
  sockets.push(s);
  s.on("connect", () => { rec.id = s.id; });
  s.on("connect_error", (err) => { out.error = err.message; finish(1); });
  s.on("disconnect", (reason) => { rec.disconnect = reason; });
  s.on("probe:event", (data) => rec.ks.push(data.k));
  s.on("probe:end", () => { ended += 1; if (ended === sockets.length) finish(0); });
}
