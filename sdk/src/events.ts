/** Server→client Socket.IO events. Room events arrive as `{room, seq, data}`. */

export interface RoomEvent<D = unknown> {
  event: string;
  room: string;
  seq: number;
  data: D;
}

export interface SessionReady {
  user_id: number;
  device_id: string;
  expires_at: number;
  instance: string;
}

export interface ResyncRequired {
  room: string;
  seq: number;
  state_url: string;
}

export interface Settings {
  version: number;
  se_on: boolean;
  bgm_on: boolean;
  theme: string;
  card_skin: string;
}

export interface Profile {
  user_id: number;
  nickname: string;
  avatar: string | null;
  country: string | null;
  version: number;
  settings: Settings;
  [field: string]: unknown;
}

/** `settings:update` data: the new settings and the device that changed them. */
export interface SettingsUpdate extends Settings {
  user_id: number;
  device_id: string;
}

export interface ModelUpdate {
  family: string;
  version: string;
  type: string;
  sha256: string;
  size: number;
  model_update_required: boolean;
  reason: "connect" | "publish" | "rollback";
}

export interface ChatMessage {
  id: number;
  channel: string;
  user_id: number;
  client_msg_id: string;
  body: string;
  seq: number;
  created_at: string;
}

export interface JoinAnswer {
  room: string;
  seq: number;
  replayed: number;
  resync_required: boolean;
  present?: number[];
}

export interface ReplayAnswer {
  room: string;
  seq: number;
  events: RoomEvent[];
  has_more: boolean;
  resync_required: boolean;
  state_url?: string;
}

export interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  token_type: string;
  user_id: number;
  device_id: string;
  expires_in: number;
}

export interface BatchResult {
  id: string;
  status: "ok" | "error";
  code?: string;
  message?: string;
  data?: unknown;
}
