import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { GatewayError } from "../errors.ts";

const VERSION = "gsb1";
const KID_RE = /^[\w-]{1,32}$/;

/** One AES-256 key and the id sealed values carry. */
export interface SecretKey {
  kid: string;
  key: Uint8Array;
}

/**
 * Encrypts secrets at rest (upstream credentials added through the admin API) with AES-256-GCM.
 * Sealed form: `gsb1:<kid>:<iv>:<ciphertext+tag>` (base64url); the version and kid are authenticated too.
 */
export interface SecretBox {
  /** Id of the key new values are sealed with (the first, newest key). */
  readonly kid: string;
  seal(plaintext: string): string;
  /** @throws GatewayError when the key id is unknown or the value was altered; the message never contains the value. */
  open(sealed: string): string;
  /** True for values sealed with an older key. */
  needsReseal(sealed: string): boolean;
  /** Opens with whichever key sealed it and seals with the newest: run over stored values after adding a key. */
  reseal(sealed: string): string;
}

/** True when `value` looks like a sealed secret (so callers can store plaintext and sealed values side by side). */
export function isSealed(value: string): boolean {
  return value.startsWith(`${VERSION}:`);
}

/** A box over `keys`, newest first. */
export function createSecretBox(keys: readonly SecretKey[]): SecretBox {
  if (keys.length === 0) throw new GatewayError("CONFIG_INVALID", "secret box: at least one key is required");
  const byKid = new Map<string, Uint8Array>();
  for (const { kid, key } of keys) {
    if (!KID_RE.test(kid)) throw new GatewayError("CONFIG_INVALID", `secret box: key id "${kid.slice(0, 32)}" must be 1-32 letters, digits, "_" or "-"`);
    if (key.length !== 32) throw new GatewayError("CONFIG_INVALID", `secret box: key "${kid}" must be 32 bytes (base64), got ${key.length}`);
    if (byKid.has(kid)) throw new GatewayError("CONFIG_INVALID", `secret box: duplicate key id "${kid}"`);
    byKid.set(kid, key);
  }
  const newest = keys[0]!.kid;
  const unreadable = (why: string) => new GatewayError("INTERNAL", `cannot open sealed secret: ${why}`);

  const parse = (sealed: string) => {
    const parts = sealed.split(":");
    if (parts.length !== 4 || parts[0] !== VERSION) throw unreadable("not a sealed value");
    return { kid: parts[1]!, iv: Buffer.from(parts[2]!, "base64url"), data: Buffer.from(parts[3]!, "base64url") };
  };

  const box: SecretBox = {
    kid: newest,
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", byKid.get(newest)!, iv);
      cipher.setAAD(Buffer.from(`${VERSION}:${newest}`));
      const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}:${newest}:${iv.toString("base64url")}:${data.toString("base64url")}`;
    },
    open(sealed) {
      const { kid, iv, data } = parse(sealed);
      const key = byKid.get(kid);
      if (!key) throw unreadable(`unknown key id "${kid.slice(0, 32)}" (is it still in GATEWAY_SECRET_KEYS?)`);
      if (iv.length !== 12 || data.length < 16) throw unreadable("malformed value");
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, iv);
        decipher.setAAD(Buffer.from(`${VERSION}:${kid}`));
        decipher.setAuthTag(data.subarray(data.length - 16));
        return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString("utf8");
      } catch {
        throw unreadable("authentication failed (wrong key or altered value)");
      }
    },
    needsReseal: (sealed) => parse(sealed).kid !== newest,
    reseal: (sealed) => (box.needsReseal(sealed) ? box.seal(box.open(sealed)) : sealed),
  };
  return box;
}

/**
 * The box configured by the environment: `GATEWAY_SECRET_KEYS="kid2:<base64>,kid1:<base64>"` (newest first),
 * or a single `GATEWAY_SECRET_KEY=<base64>` (key id `default`). `undefined` when neither is set.
 */
export function secretBoxFromEnv(env: Record<string, string | undefined> = process.env): SecretBox | undefined {
  const list = env.GATEWAY_SECRET_KEYS?.trim();
  if (list) {
    return createSecretBox(
      list.split(",").map((entry, index) => {
        const colon = entry.indexOf(":");
        if (colon < 0) throw new GatewayError("CONFIG_INVALID", `GATEWAY_SECRET_KEYS entry ${index + 1}: expected "<kid>:<base64 key>"`);
        return { kid: entry.slice(0, colon).trim(), key: Buffer.from(entry.slice(colon + 1).trim(), "base64") };
      }),
    );
  }
  const single = env.GATEWAY_SECRET_KEY?.trim();
  return single ? createSecretBox([{ kid: "default", key: Buffer.from(single, "base64") }]) : undefined;
}
