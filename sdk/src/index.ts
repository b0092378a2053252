export { FeltsyncClient } from "./client.js";
export type { ClientEvents, ClientOptions, ConnectionStatus, SettingsChange, Transport } from "./client.js";
export { ApiError, NetworkError } from "./errors.js";
export type * from "./events.js";
export type * from "./generated/protocol.js";
export type { QueueResult } from "./queue.js";
export type { Tokens } from "./session.js";
