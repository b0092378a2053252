// A socket.io client watching its server go away: what it was told, and how it was disconnected.
// Usage: node shutdown_watch.mjs URL TOKEN TRANSPORT
//   prints {"ready": true} once connected, then one JSON line when the server has closed it.
import { io } from "socket.io-client";

const [url, token, transport] = process.argv.slice(2);
const result = { transport, closing: [], disconnect: null };
const socket = io(url, { transports: [transport], auth: { token, device_id: "shutdown-watch" },
                         reconnection: false, timeout: 5000 });
const finish = () => { console.log(JSON.stringify(result)); socket.close(); process.exit(0); };
setTimeout(() => { result.error = "timeout"; finish(); }, 20000);
socket.on("connect_error", (err) => { result.error = err.message; finish(); });
socket.on("session:ready", () => console.log(JSON.stringify({ ready: true })));
socket.on("session:closing", (payload) => result.closing.push(payload));
socket.on("disconnect", (reason) => { result.disconnect = reason; finish(); });
