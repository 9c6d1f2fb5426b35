import { expect, it } from "vitest";
import { z } from "zod";
import { defineAgent, runWorkflow, scriptedModel, tool } from "../../src/index.ts";

/** The README's agent and its test, as written there (a lookup tool, a clarifying question). */
const orders = new Map([["A-17", "shipped"]]);
const support = (model = scriptedModel([]).model) =>
  defineAgent({
    name: "support",
    description: "answers questions about orders",
    system: "You answer questions about orders. Ask for the order number when you need it.",
    model,
    tools: {
      lookup_order: tool({
        title: "Looking up the order",
        description: "The status of an order, by its number",
        inputSchema: z.object({ order: z.string() }),
        execute: async ({ order }) => orders.get(order) ?? "no such order",
      }),
    },
  });

it("the README's agent test: asks for the number, looks it up, answers", async () => {
  const { model, calls } = scriptedModel([
    { toolCalls: [{ name: "ask_user", input: { question: "Which order number?" } }] },
    { toolCalls: [{ name: "lookup_order", input: { order: "A-17" } }] },
    "Order A-17 has shipped.",
  ]);
  const run = await runWorkflow(support(model), { text: "Where is my order?" }, { answers: ["A-17"] });
  expect(run.task.result?.text).toBe("Order A-17 has shipped.");
  expect(run.asked.map((m) => m.text)).toEqual(["Which order number?"]);
  expect(JSON.stringify(calls[2])).toContain("shipped");
});
