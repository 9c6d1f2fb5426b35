/**
 * Everything an adapter or the HTTP API may use of chatflow's engine, in one place: the Host
 * port (what they may ask of the engine), the Adapter port (what the engine asks of them),
 * and the helpers adapter authors share. Besides this folder, the edges import only
 * `model.ts`, `errors.ts` and `logger.ts`; test/repo/layering.test.ts holds them to it.
 */
export type * from "./host.ts";
export type { Adapter, AdapterCapabilities, AdapterFactoryContext, AdapterModule, AdapterStartContext, CommandInfo, InboundHandler, NoticeOptions } from "./adapter.ts";
export { Handoff } from "./handoff.ts";
export { ActionKeys } from "./action-keys.ts";
export { memoryLimiter } from "../store/limits.ts";
export { parseSection, parseHttpUrl } from "./config-section.ts";
export { matchChoice } from "./choices.ts";
export { isFinished } from "../store/records.ts";
export { newId, derivedId } from "../ids.ts";
export { isActionId, decodeAction } from "../tasks/actions.ts";
