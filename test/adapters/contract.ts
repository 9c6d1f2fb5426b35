import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Adapter } from "../../src/port/adapter.ts";
import type { Action, Address, InboundEvent, OutboundMessage } from "../../src/model.ts";

/**
 * The adapter contract: what the engine relies on from every platform adapter. Each adapter
 * runs it through a harness that plays the person on that platform (a fake server, streams).
 */
export interface AdapterHarness {
  /** The adapter under test, not started: the suite starts it. */
  adapter: Adapter;
  /** Where the harness's person chats: the address replies go to. */
  address: Address;
  /** The person writes a plain message. */
  deliverText(text: string): Promise<void>;
  /** The person sends `/name args`. */
  deliverCommand(name: string, args: string): Promise<void>;
  /**
   * The person presses the button of `action` on the last message that showed it, as the
   * platform lets them (a click, a typed answer); the harness knows the label and role, not
   * how the adapter encodes the id.
   */
  pressAction(action: Action): Promise<void>;
  /** The last message as the person sees it now: plain text and button labels. */
  lastSent(): Promise<{ text: string; buttons: string[] }>;
  /** Everything the person sees, oldest first, as plain text. */
  transcript(): Promise<string>;
  /** The notices the person saw that nobody else did (`notify`), oldest first. */
  privateNotices(): Promise<string[]>;
  /**
   * A chat several people share (a group, a channel), where the platform has them; the
   * harness's people there are `users` (two of them), and messages to the bot address it as
   * the platform requires (a mention).
   */
  shared?: SharedChatHarness;
  cleanup(): Promise<void>;
}

export interface SharedChatHarness {
  users: readonly [string, string];
  /** Where `user` writes in the shared chat. */
  address(user: string): Address;
  deliverTextAs(user: string, text: string): Promise<void>;
  pressActionAs(user: string, action: Action): Promise<void>;
  /** What everyone in the shared chat sees, as plain text. */
  transcript(): Promise<string>;
  /** The notices `user` alone saw. */
  privateNotices(user: string): Promise<string[]>;
}

const question = (ids: { a: string; b: string; cancel: string }): OutboundMessage => ({
  kind: "question",
  text: "Which period?",
  taskId: "t-contract",
  actions: [
    { id: ids.a, label: "This week", role: "choice" },
    { id: ids.b, label: "This month", role: "choice" },
    { id: ids.cancel, label: "Cancel task", role: "cancel", style: "danger" },
  ],
});

/** Registers the contract suite for one adapter. */
export function adapterContract(name: string, make: () => Promise<AdapterHarness>): void {
  describe(`adapter contract: ${name}`, () => {
    let h: AdapterHarness;
    let events: InboundEvent[];
    let waiters: Array<() => boolean>;
    /** Runs inside the handler, as the engine answers an event while handling it (e.g. `notify`). */
    let react: ((event: InboundEvent) => Promise<void>) | undefined;

    /** Calls `notify` for the next event that matches, from inside the handler. */
    function notifyNext(match: (event: InboundEvent) => boolean, text: string, alert = false): Promise<boolean> {
      return new Promise((resolve, reject) => {
        react = async (event) => {
          if (!match(event)) return;
          react = undefined;
          await h.adapter.notify!(event, text, { alert }).then(resolve, reject);
        };
      });
    }

    /** Resolves with the first event (from all received) that matches. */
    function nextEvent(match: (event: InboundEvent) => boolean, timeoutMs = 5000): Promise<InboundEvent> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (!found) return false;
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => reject(new Error(`No matching event within ${timeoutMs} ms; got ${JSON.stringify(events.map(({ raw: _raw, ...e }) => e))}`)), timeoutMs);
        if (!check()) waiters.push(check);
      });
    }

    beforeEach(async () => {
      events = [];
      waiters = [];
      react = undefined;
      h = await make();
      await h.adapter.start(async (event) => {
        events.push(event);
        waiters = waiters.filter((check) => !check());
        await react?.(event);
      });
    });
    afterEach(async () => {
      await h.adapter.stop();
      await h.cleanup();
    });

    it("declares its platform and sane capabilities", () => {
      expect(h.adapter.platform).toBe(h.address.platform);
      expect(h.adapter.capabilities.editIntervalMs).toBeGreaterThanOrEqual(0);
      expect(h.adapter.capabilities.maxTextLength).toBeGreaterThan(0);
      expect(typeof h.adapter.capabilities.persistentMessages).toBe("boolean");
    });

    it("hands a typed message, then a command with args, to the handler with one stable address", async () => {
      await h.deliverText("hello contract");
      const message = await nextEvent((e) => e.kind === "message");
      expect(message).toMatchObject({ kind: "message", text: "hello contract", address: h.address });
      await h.deliverCommand("history", "5");
      const command = await nextEvent((e) => e.kind === "command");
      expect(command).toMatchObject({ kind: "command", name: "history", args: "5", address: h.address });
      expect(command.id).not.toBe(message.id);
      expect(typeof message.id).toBe("string");
    });

    it("sends a message and returns its id; edit changes that message", async () => {
      const first = await h.adapter.send(h.address, { kind: "notice", text: "first version 111" });
      expect(first.id).toEqual(expect.any(String));
      expect(first.id).not.toBe("");
      expect((await h.lastSent()).text).toContain("first version 111");
      const other = await h.adapter.send(h.address, { kind: "notice", text: "another message" });
      expect(other.id).not.toBe(first.id);
      if (!h.adapter.edit) return;
      await h.adapter.edit(h.address, other.id, { kind: "notice", text: "second version 222" });
      const shown = await h.lastSent();
      expect(shown.text).toContain("second version 222");
      expect(shown.text).not.toContain("another message");
    });

    it("renders actions as buttons that come back, pressed, with the same actionId (even long ids)", async () => {
      const ids = { a: "cf:t-contract:tok1:0", b: `cf:${"t".repeat(120)}:tok1:1`, cancel: "cf:t-contract:tok1:cancel" };
      const asked = question(ids);
      await h.adapter.send(h.address, asked);
      expect((await h.lastSent()).buttons).toEqual(expect.arrayContaining(["This week", "This month"]));
      await h.pressAction(asked.actions![1]!);
      const pressed = await nextEvent((e) => e.kind === "action");
      expect(pressed).toMatchObject({ kind: "action", actionId: ids.b, address: h.address });
    });

    it("renders a review's approve / reject / edit and hands back the one pressed", async () => {
      const review: OutboundMessage = {
        kind: "review",
        text: "Publish this draft?",
        review: { data: "Draft: owls hunt at night." },
        taskId: "t-contract",
        actions: [
          { id: "cf:t-contract:tok2:approve", label: "Approve", role: "approve", style: "primary" },
          { id: "cf:t-contract:tok2:reject", label: "Reject", role: "reject", style: "danger" },
          { id: "cf:t-contract:tok2:edit", label: "Edit", role: "edit" },
        ],
      };
      await h.adapter.send(h.address, review);
      expect(await h.transcript()).toContain("Draft: owls hunt at night.");
      await h.pressAction(review.actions![2]!);
      const pressed = await nextEvent((e) => e.kind === "action");
      expect(pressed).toMatchObject({ actionId: "cf:t-contract:tok2:edit" });
    });

    it("loses nothing of a text longer than one message", async () => {
      const words = Array.from({ length: 2200 }, (_, i) => `w${String(i).padStart(4, "0")}`);
      const text = words.join(" ").replace(/(w\d*0) /g, "$1\n");
      expect(text.length).toBeGreaterThan(h.adapter.capabilities.maxTextLength > 10_000 ? 10_000 : h.adapter.capabilities.maxTextLength);
      await h.adapter.send(h.address, { kind: "result", text });
      const seen = (await h.transcript()).match(/w\d{4}/g) ?? [];
      expect(seen).toEqual(words);
    });

    it("shows a private notice in answer to a button press only to the person who pressed", async () => {
      // `notify` is optional: without it the engine replies in the chat (test/engine/permissions.test.ts).
      if (!h.adapter.notify) return;
      const asked = question({ a: "cf:t-contract:tok3:0", b: "cf:t-contract:tok3:1", cancel: "cf:t-contract:tok3:cancel" });
      await h.adapter.send(h.address, asked);
      const notified = notifyNext((e) => e.kind === "action", "Only for you 333", true);
      await h.pressAction(asked.actions![0]!);
      expect(await notified).toBe(true);
      expect(await h.privateNotices()).toContain("Only for you 333");
    });

    it("declines or shows privately a notice for a typed message, never both", async () => {
      if (!h.adapter.notify) return; // optional capability, as above
      const notified = notifyNext((e) => e.kind === "message", "Typed notice 555");
      await h.deliverText("a typed message");
      const shown = await notified;
      expect((await h.privateNotices()).includes("Typed notice 555")).toBe(shown);
    });

    it("in a shared chat: tells people apart, marks no one's chat direct, and keeps a notice to one person from the others", async () => {
      // Platforms without shared chats (the console) have nothing to check here.
      const shared = h.shared;
      if (!shared) return;
      const [first, second] = shared.users;
      await shared.deliverTextAs(first, "from the first");
      await shared.deliverTextAs(second, "from the second");
      const one = await nextEvent((e) => e.kind === "message" && e.text === "from the first");
      const two = await nextEvent((e) => e.kind === "message" && e.text === "from the second");
      expect(one.address).toEqual(shared.address(first));
      expect(two.address).toEqual(shared.address(second));
      expect(one.address.channel).toBe(two.address.channel);
      expect(one.address.user).not.toBe(two.address.user);
      expect(one.address.direct).not.toBe(true);

      const asked = question({ a: "cf:t-shared:tok4:0", b: "cf:t-shared:tok4:1", cancel: "cf:t-shared:tok4:cancel" });
      await h.adapter.send(shared.address(first), asked);
      const notified = h.adapter.notify ? notifyNext((e) => e.kind === "action", "Not yours 444", true) : undefined;
      await shared.pressActionAs(second, asked.actions![1]!);
      const pressed = await nextEvent((e) => e.kind === "action" && e.actionId === "cf:t-shared:tok4:1");
      expect(pressed.address).toEqual(shared.address(second));
      if (!notified) return; // optional capability, as above
      expect(await notified).toBe(true);
      expect(await shared.privateNotices(second)).toContain("Not yours 444");
      expect(await shared.privateNotices(first)).not.toContain("Not yours 444");
      expect(await shared.transcript()).not.toContain("Not yours 444");
    });

    it("says it is connected while started (for /healthz), and not after stop()", async () => {
      if (!h.adapter.connected) return; // optional: an adapter without it counts as connected while started
      expect(h.adapter.connected()).toBe(true);
      await h.adapter.stop();
      expect(h.adapter.connected()).toBe(false);
    });

    it("stops delivering after stop()", async () => {
      await h.adapter.stop();
      await h.deliverText("after stop");
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(events.filter((e) => e.kind === "message" && e.text === "after stop")).toEqual([]);
    });
  });
}
