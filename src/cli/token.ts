import { defineCommand } from "citty";
import { mintToken } from "../auth/token.ts";
import { loadGatewayConfig } from "../config/load.ts";
import { GatewayError } from "../errors.ts";
import { createLogger } from "../_utils/logger.ts";
import { exitWithError } from "./shared.ts";

const HMAC = ["HS256", "HS384", "HS512"] as const;

/** `gateway token`: mint an HS* JWT the configured `auth.jwt` accepts, for local use and tests. */
export default defineCommand({
  meta: {
    name: "token",
    description: "Mint a JWT from the configured auth.jwt secret (e.g. gateway token --sub alice --exp 1h --scope \"tools:read\")",
  },
  args: {
    sub: { type: "string", required: true, description: "Subject (who the token identifies), e.g. --sub alice" },
    exp: { type: "string", default: "1h", description: "Lifetime: seconds or a span like 15m, 2h, 7d. Default 1h" },
    scope: { type: "string", description: "Space-separated scopes, e.g. --scope \"tools:read tools:call\"" },
    aud: { type: "string", description: "Audience (default: the first configured auth.jwt.audience)" },
    iss: { type: "string", description: "Issuer (default: the first configured auth.jwt.issuer)" },
    config: { type: "string", alias: "c", description: "Config file with auth.jwt (default: ./gateway.config.*)" },
    cwd: { type: "string", description: "Directory to look for the config in" },
  },
  async run({ args }) {
    const log = createLogger("info");
    try {
      const { config } = await loadGatewayConfig({ cwd: args.cwd, configFile: args.config });
      const jwt = config.auth.jwt;
      if (!jwt?.secret) throw new GatewayError("CONFIG_INVALID", "gateway token needs auth.jwt.secret in the config (it mints HS256/384/512 tokens only)");
      const alg = HMAC.find((a) => jwt.algorithms.includes(a));
      if (!alg) throw new GatewayError("CONFIG_INVALID", "auth.jwt.algorithms allows no HS256/384/512 algorithm");
      const first = (value: string | string[]) => (Array.isArray(value) ? value[0]! : value);
      const exp = /^\d+$/.test(args.exp) ? Number(args.exp) : args.exp;
      const token = await mintToken({
        secret: jwt.secret,
        sub: args.sub,
        aud: args.aud ?? first(jwt.audience),
        iss: args.iss ?? first(jwt.issuer),
        expiresIn: exp,
        scope: args.scope,
        alg,
      });
      process.stdout.write(`${token}\n`);
    } catch (error) {
      exitWithError(error, log);
    }
  },
});
