import { chatMethods } from "./chat.ts";
import { readMethods } from "./conversations.ts";
import type { Json } from "./protocol.ts";
import { viewMethods } from "./views.ts";
import { fail, type Handler, type WebApiContext } from "./web-api.ts";

/** The Web API methods the fake serves, by name (auth.test and apps.connections.open are answered by the server). */
const HANDLERS: Record<string, Handler> = { ...chatMethods, ...readMethods, ...viewMethods };

/** The answer to a call whose token, parameters and failure rules were already checked. */
export function answer(ctx: WebApiContext, method: string, params: Json): Json {
  const handler = HANDLERS[method];
  if (!handler) {
    ctx.violation(`${method}: known to Slack but not served by the fake (teach test/fakes/slack the method if chatflow needs it)`);
    return fail("unknown_method");
  }
  return handler(ctx, params);
}
