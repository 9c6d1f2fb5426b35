import { z } from "zod";

/** The `adapters.console` section: the terminal chat `npm start` opens. */
export const consoleConfigSchema = z
  .object({
    /** Whether the terminal chat runs. Default true. */
    enabled: z.boolean().default(true),
    /** Chat id of the console conversation (one session per channel). Default `local`. */
    channel: z.string().min(1).default("local"),
  })
  .strict();

export type ConsoleConfig = z.output<typeof consoleConfigSchema>;
