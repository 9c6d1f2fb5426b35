import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { ChatflowError } from "../../errors.ts";
import type { Schedule } from "../../port/index.ts";
import { addressIn, visibleSession, type ApiDeps, type ApiEnv } from "../access.ts";
import type { ApiUser } from "../auth.ts";
import { ApiError, forbidden, notFound } from "../errors.ts";
import { freeJson } from "../json-limits.ts";
import { bodyErrorResponses, errorResponses, IdParam, json, ScheduleSchema } from "../schemas.ts";
import { scheduleView } from "../views.ts";

const CreateSchedule = z
  .object({
    sessionId: z.string().min(1),
    cron: z.string().min(1).openapi({ example: "0 9 * * 1-5" }),
    timezone: z.string().min(1).optional().openapi({ example: "Europe/Berlin" }),
    text: z.string().min(1).optional(),
    prompt: z.string().min(1).optional(),
    withHistory: z.boolean().optional(),
    workflow: z.string().min(1).optional(),
    input: freeJson("The workflow's input, with `workflow`.").optional(),
    missedPolicy: z.enum(["skip", "latest", "all"]).optional(),
  })
  .strict()
  .refine((s) => [s.text, s.prompt, s.workflow].filter((v) => v !== undefined).length === 1, { message: "give one of text, prompt or workflow", path: ["text"] });

const routes = {
  list: createRoute({ method: "get", path: "/schedules", tags: ["schedules"], summary: "Your schedules", responses: { 200: json(z.object({ items: z.array(ScheduleSchema) }), "Schedules."), ...errorResponses } }),
  create: createRoute({
    method: "post",
    path: "/schedules",
    tags: ["schedules"],
    summary: "Post into a session on a cron schedule: fixed text, a message the assistant writes from a prompt, or a workflow's result",
    request: { body: { required: true, content: { "application/json": { schema: CreateSchedule } } } },
    responses: { 201: json(ScheduleSchema, "The schedule."), ...bodyErrorResponses },
  }),
  pause: createRoute({ method: "post", path: "/schedules/{id}/pause", tags: ["schedules"], request: { params: IdParam }, responses: { 200: json(ScheduleSchema, "Paused."), ...errorResponses } }),
  resume: createRoute({ method: "post", path: "/schedules/{id}/resume", tags: ["schedules"], request: { params: IdParam }, responses: { 200: json(ScheduleSchema, "Resumed; slots missed while paused are skipped."), ...errorResponses } }),
  remove: createRoute({ method: "delete", path: "/schedules/{id}", tags: ["schedules"], request: { params: IdParam }, responses: { 204: { description: "Removed." }, ...errorResponses } }),
};

/** Schedules over REST, with the rules of /schedule: a user sees and changes the ones they made; reviewers all (and those of the config file). */
export function scheduleRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>();
  const { host } = deps;
  const scheduler = host.schedules;

  const mine = (user: ApiUser, s: Schedule) => user.reviewer || (s.origin === "chat" && s.target.platform === deps.platform && s.target.user === user.id);
  const view = async (s: Schedule) => scheduleView(s, s.enabled ? scheduler.nextFire(s) : null, (await host.sessions.find(s.target))?.id ?? null);
  async function owned(user: ApiUser, id: string): Promise<Schedule> {
    const schedule = (await scheduler.list()).find((s) => s.id === id);
    if (!schedule || !(mine(user, schedule) || (schedule.target.platform === deps.platform && schedule.target.user === user.id))) throw notFound(`schedule ${id}`);
    if (!mine(user, schedule)) throw forbidden("Only a reviewer may change a schedule of the configuration file.");
    return schedule;
  }

  app.openapi(routes.list, async (c) => {
    const user = c.get("user");
    const items = await Promise.all((await scheduler.list()).filter((s) => mine(user, s)).map(view));
    return c.json({ items }, 200);
  });

  app.openapi(routes.create, async (c) => {
    const user = c.get("user");
    const body = c.req.valid("json");
    const session = await visibleSession(deps, user, body.sessionId);
    if (body.workflow !== undefined && !host.tasks.workflows().includes(body.workflow)) throw new ApiError(400, "bad_request", `workflow: there is no workflow "${body.workflow}".`);
    try {
      const created = await scheduler.add({
        cron: body.cron,
        ...(body.timezone ? { timezone: body.timezone } : {}),
        ...(body.missedPolicy ? { missedPolicy: body.missedPolicy } : {}),
        target: addressIn(session, user),
        origin: "chat",
        ...(body.text !== undefined ? { text: body.text } : {}),
        ...(body.prompt !== undefined ? { prompt: body.prompt, withHistory: body.withHistory ?? false } : {}),
        ...(body.workflow !== undefined ? { workflow: body.workflow, input: body.input ?? {} } : {}),
      });
      return c.json(await view(created), 201);
    } catch (error) {
      if (error instanceof ChatflowError && error.code === "validation") throw new ApiError(400, "bad_request", error.message);
      throw error;
    }
  });

  app.openapi(routes.pause, async (c) => {
    const user = c.get("user");
    const schedule = await owned(user, c.req.valid("param").id);
    return c.json(await view((await scheduler.pause(schedule.id, `paused by ${user.id}`)) ?? schedule), 200);
  });

  app.openapi(routes.resume, async (c) => {
    const schedule = await owned(c.get("user"), c.req.valid("param").id);
    return c.json(await view((await scheduler.resume(schedule.id)) ?? schedule), 200);
  });

  app.openapi(routes.remove, async (c) => {
    const schedule = await owned(c.get("user"), c.req.valid("param").id);
    await scheduler.remove(schedule.id);
    return c.body(null, 204);
  });

  return app;
}
