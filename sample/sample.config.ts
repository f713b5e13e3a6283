/** Everything the sample app needs to know about where Pusher is. Built by `start.ts` (or a test). */
export interface SampleConfig {
  /** Server side: what `PusherModule.forRoot` gets. */
  pusher: {
    appId: string;
    key: string;
    secret: string;
    cluster?: string;
    host?: string;
    port?: number;
    useTLS?: boolean;
    /** 32 bytes, base64: enables the encrypted room. Without it the room is shown as unavailable. */
    encryptionMasterKeyBase64?: string;
  };
  /** Browser side: handed to pusher-js through `GET /config.json`. Never contains the secret. */
  client: PusherClientConfig;
}

export interface PusherClientConfig {
  key: string;
  cluster: string;
  /** Set for a self-hosted server such as the embedded soketi; omitted for Pusher's service. */
  wsHost?: string;
  wsPort?: number;
  forceTLS: boolean;
  /** Whether the encrypted room can be used (the server has a master key). */
  encryptedRoom: boolean;
}

/** Dependency-injection token for the {@link SampleConfig}. */
export const SAMPLE_CONFIG = Symbol('SAMPLE_CONFIG');

/** Channel names the page and the server agree on. */
export const CHANNELS = {
  /** The chat room: who is online, messages, typing. */
  room: 'presence-room',
  /** Where the webhook handlers report what they saw. */
  activity: 'activity',
  /** The end-to-end encrypted room. */
  vault: 'private-encrypted-vault',
} as const;
