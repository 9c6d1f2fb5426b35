import { createMemoryStore } from "../src/store/memory.ts";
import type { Store } from "../src/store/port.ts";

type Method = { [K in keyof Store]: Store[K] extends (...args: any[]) => any ? K : never }[keyof Store];

/**
 * A memory store whose methods a test can make fail or wait: `around.set("getSession", fn)`
 * runs `fn(original, args)` instead of the method until it is deleted.
 */
export function faultyStore(): { store: Store; around: Map<Method, (original: (...args: any[]) => Promise<unknown>, args: unknown[]) => Promise<unknown>> } {
  const base = createMemoryStore();
  const around = new Map<Method, (original: (...args: any[]) => Promise<unknown>, args: unknown[]) => Promise<unknown>>();
  const store = new Proxy(base, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      // Bound to the store itself: its private fields don't exist on the proxy.
      const original = value.bind(target) as (...args: any[]) => Promise<unknown>;
      return (...args: unknown[]) => {
        const wrapper = around.get(property as Method);
        return wrapper ? wrapper(original, args) : original(...args);
      };
    },
  });
  return { store, around };
}
