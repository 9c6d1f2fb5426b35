import { PassThrough } from "node:stream";
import { createConsoleAdapter } from "../../adapters/console/index.ts";
import type { Action, Address } from "../../src/model.ts";
import { adapterContract } from "./contract.ts";

const address: Address = { platform: "console", channel: "contract", user: "ada" };
// What the console accepts as a typed press of each kind of button.
const typed = (action: Action): string => (action.role === "choice" ? action.label : action.role);

adapterContract("console (streams)", async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  output.setEncoding("utf8");
  let screen = "";
  output.on("data", (chunk: string) => (screen += chunk));
  // A terminal (tty) hands every line over at once; pipe mode would wait for the bot's answer.
  const adapter = createConsoleAdapter({ input, output, tty: true, color: false, user: address.user, channel: address.channel });
  // Marks where each message starts on the screen, so `lastSent` can cut out the last one.
  const marks: number[] = [];
  for (const method of ["send", "edit"] as const) {
    const original = adapter[method]!.bind(adapter) as (...args: unknown[]) => Promise<never>;
    (adapter as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      marks.push(screen.length);
      return original(...args);
    };
  }
  const settled = () => new Promise((resolve) => setImmediate(resolve));
  const plain = (text: string) => text.replace(/^bot> ?/gm, "");
  const type = async (line: string) => {
    input.write(`${line}\n`);
    await settled();
  };
  return {
    adapter,
    address,
    deliverText: type,
    deliverCommand: (name, args) => type(`/${name} ${args}`),
    pressAction: (action) => type(typed(action)),
    async lastSent() {
      await settled();
      const block = screen.slice(marks.at(-1) ?? 0);
      return { text: plain(block), buttons: [...block.matchAll(/^\s+\d+\) (.+)$/gm)].map((m) => m[1]!) };
    },
    async transcript() {
      await settled();
      return plain(screen);
    },
    // One person at the terminal: what is on the screen is seen by them alone.
    async privateNotices() {
      await settled();
      return plain(screen).split("\n");
    },
    cleanup: async () => {
      input.end();
    },
  };
});
