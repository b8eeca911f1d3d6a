import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineResource, GatewayConfigError, resolveConfig } from "../../../src/index.ts";
import { connectV1, connectV2, endSession, nextEvent } from "../../_helpers.ts";
import { rejection, startGateway } from "./_gateway.ts";

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);

let dir: string;
let root: string;
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "local-resources-"));
  root = join(dir, "root");
  mkdirSync(root);
  writeFileSync(join(root, "readme.md"), "# Readme\n");
  writeFileSync(join(root, "data.json"), '{"a":1}');
  writeFileSync(join(root, "logo.bin"), PNG);
  writeFileSync(join(root, "notes"), "plain words");
  writeFileSync(join(dir, "secret.txt"), "top secret");
  symlinkSync(join(dir, "secret.txt"), join(root, "link.txt"));
  mkdirSync(join(root, "guide", "deep"), { recursive: true });
  writeFileSync(join(root, "guide", "deep", "intro.md"), "# Intro\n");
  symlinkSync(join(dir, "secret.txt"), join(root, "guide", "escape.txt"));
  ({ url, close } = await startGateway({
    local: { allowedRoot: root },
    resources: {
      hello: defineResource({ text: "hi there", description: "A greeting" }),
      pixel: defineResource({ uri: "local://images/pixel", blob: PNG }),
      readme: defineResource({ file: "readme.md" }),
      data: defineResource({ file: "data.json" }),
      logo: defineResource({ file: "logo.bin" }),
      notes: defineResource({ file: "notes" }),
      link: defineResource({ file: "link.txt" }),
      gone: defineResource({ file: "missing.txt" }),
      clock: defineResource({ compute: (uri) => `computed for ${uri}` }),
      report: defineResource({ compute: () => ({ blob: PNG, mimeType: "image/png" }) }),
      guide: defineResource({ dir: "guide", description: "Every file of the guide" }),
    },
  }));
});

afterAll(async () => {
  await close?.();
  rmSync(dir, { recursive: true, force: true });
});

describe("local resources", () => {
  it("lists resources under local://<name> or their own URI, with MIME types known from the name", async () => {
    const client = await connectV2(url);
    try {
      const { resources } = await client.listResources();
      const byName = Object.fromEntries(resources.map((r) => [r.name, r]));
      expect(byName.hello).toEqual({ uri: "local://hello", name: "hello", description: "A greeting" });
      expect(byName.pixel?.uri).toBe("local://images/pixel");
      expect(byName.readme?.mimeType).toBe("text/markdown");
      expect(byName.data?.mimeType).toBe("application/json");
    } finally {
      await client.close();
    }
  });

  it("reads static text and a static blob (base64, MIME type from the magic bytes)", async () => {
    const client = await connectV1(url);
    try {
      expect((await client.readResource({ uri: "local://hello" })).contents).toEqual([{ uri: "local://hello", mimeType: "text/plain", text: "hi there" }]);
      expect((await client.readResource({ uri: "local://images/pixel" })).contents).toEqual([
        { uri: "local://images/pixel", mimeType: "image/png", blob: Buffer.from(PNG).toString("base64") },
      ]);
    } finally {
      await endSession(client);
    }
  });

  it("reads files under the allowed root with detected MIME types: .md and .json as text, PNG bytes as a blob", async () => {
    const client = await connectV2(url);
    try {
      const read = async (name: string) => (await client.readResource({ uri: `local://${name}` })).contents[0] as Record<string, unknown>;
      expect(await read("readme")).toEqual({ uri: "local://readme", mimeType: "text/markdown", text: "# Readme\n" });
      expect(await read("data")).toEqual({ uri: "local://data", mimeType: "application/json", text: '{"a":1}' });
      expect(await read("logo")).toEqual({ uri: "local://logo", mimeType: "image/png", blob: Buffer.from(PNG).toString("base64") });
      expect(await read("notes")).toEqual({ uri: "local://notes", mimeType: "text/plain", text: "plain words" });
    } finally {
      await client.close();
    }
  });

  it("refuses a symlink that leads outside the allowed root, without revealing the target", async () => {
    const client = await connectV1(url);
    try {
      const error = await rejection(client.readResource({ uri: "local://link" }));
      expect(error.code).toBe(-32602);
      expect(error.message).toMatch(/resolves to a file outside its allowed root/);
      expect(error.message).not.toContain("secret");
      // The SDK sends resource-not-found as -32602 (the 2026-07-28 rule) in every era.
      const missing = await rejection(client.readResource({ uri: "local://gone" }));
      expect(missing.code).toBe(-32602);
      expect(missing.message).toMatch(/Resource not found: local:\/\/gone/);
    } finally {
      await endSession(client);
    }
  });

  it("refuses a ../ path at config load, naming the resource", () => {
    const load = () => resolveConfig({ resources: { escape: { file: "../secret.txt", allowedRoot: root } } });
    expect(load).toThrow(GatewayConfigError);
    expect(load).toThrow(/resources\.escape: file is outside its allowed root/);
    expect(() => resolveConfig({ resources: { nowhere: { file: "x.txt" } } })).toThrow(/resources\.nowhere: a file resource needs allowedRoot/);
    expect(() => resolveConfig({ resources: { both: { text: "a", file: "b" } } })).toThrow(/resources\.both: expected exactly one of text, blob, file, dir or compute/);
  });

  it("resolves allowedRoot relative to the config file it came from", () => {
    const config = resolveConfig({ local: { allowedRoot: "root" }, resources: { r: { file: "readme.md" } } }, { file: join(dir, "gateway.config.ts") });
    const local = config.upstreams.find((u) => u.type === "local");
    expect(local?.type === "local" && local.allowedRoot).toBe(root);
  });

  it("serves every file under a dir resource through its URI template, and nothing outside it", async () => {
    const client = await connectV1(url);
    try {
      const { resourceTemplates } = await client.listResourceTemplates();
      expect(resourceTemplates).toEqual([{ uriTemplate: "local://guide/{+path}", name: "guide", description: "Every file of the guide" }]);
      expect((await client.readResource({ uri: "local://guide/deep/intro.md" })).contents).toEqual([
        { uri: "local://guide/deep/intro.md", mimeType: "text/markdown", text: "# Intro\n" },
      ]);
      for (const uri of ["local://guide/../secret.txt", "local://guide/%2e%2e/%2e%2e/secret.txt", "local://guide/escape.txt", "local://guide/%2Fetc%2Fpasswd"]) {
        const error = await rejection(client.readResource({ uri }));
        expect(error.message, uri).toMatch(/resolves to a file outside its allowed root/);
      }
      expect((await rejection(client.readResource({ uri: "local://guide/deep" }))).message).toMatch(/Resource not found/);
    } finally {
      await endSession(client);
    }
  });

  it("computes a resource per read, as text or as a blob", async () => {
    const client = await connectV1(url);
    try {
      expect((await client.readResource({ uri: "local://clock" })).contents[0]).toEqual({ uri: "local://clock", mimeType: "text/plain", text: "computed for local://clock" });
      expect((await client.readResource({ uri: "local://report" })).contents[0]).toMatchObject({ mimeType: "image/png", blob: Buffer.from(PNG).toString("base64") });
    } finally {
      await endSession(client);
    }
  });

  it("sends resources/updated to the subscribed client when a subscribed file changes", async () => {
    const subscriber = await connectV1(url, "sub");
    const bystander = await connectV1(url, "other");
    let bystanderGot = 0;
    bystander.setNotificationHandler(ResourceUpdatedNotificationSchema, () => {
      bystanderGot++;
    });
    try {
      await subscriber.subscribeResource({ uri: "local://readme" });
      const updated = nextEvent<string>((resolve) => subscriber.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)), 5_000, "resources/updated");
      writeFileSync(join(root, "readme.md"), "# Readme v2\n");
      expect(await updated).toBe("local://readme");
      expect((await subscriber.readResource({ uri: "local://readme" })).contents[0]).toMatchObject({ text: "# Readme v2\n" });
      expect(bystanderGot).toBe(0);
    } finally {
      await endSession(subscriber);
      await endSession(bystander);
    }
  });

  it("watches a file named through a dir resource's template while subscribed", async () => {
    const client = await connectV1(url);
    try {
      await client.subscribeResource({ uri: "local://guide/deep/intro.md" });
      const updated = nextEvent<string>((resolve) => client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)), 5_000, "resources/updated");
      writeFileSync(join(root, "guide", "deep", "intro.md"), "# Intro v2\n");
      expect(await updated).toBe("local://guide/deep/intro.md");
    } finally {
      await endSession(client);
    }
  });

  it("refuses to subscribe to an unknown resource with resource-not-found", async () => {
    const client = await connectV1(url);
    try {
      const error = await rejection(client.subscribeResource({ uri: "local://nope" }));
      expect(error.code).toBe(-32602);
      expect(error.message).toMatch(/Resource not found: local:\/\/nope/);
    } finally {
      await endSession(client);
    }
  });
});
