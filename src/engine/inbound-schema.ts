import { z } from "zod";

const address = z.object({
  platform: z.string().min(1),
  channel: z.string().min(1),
  thread: z.string().min(1).optional(),
  user: z.string().min(1),
  direct: z.boolean().optional(),
});

const base = { id: z.string().min(1).max(512), address, raw: z.unknown().optional(), platformMessageId: z.string().optional() };

/** What a well-formed inbound event looks like; adapters are checked at the engine's door. */
export const inboundEventSchema = z.discriminatedUnion("kind", [
  z.object({ ...base, kind: z.literal("message"), text: z.string() }),
  z.object({ ...base, kind: z.literal("command"), name: z.string().min(1).max(64), args: z.string() }),
  z.object({ ...base, kind: z.literal("action"), actionId: z.string().min(1).max(256), text: z.string().optional(), feedback: z.string().optional() }),
]);
