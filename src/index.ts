/**
 * chatflow's public API: create a bot, define workflows, implement adapters and stores.
 */
export { createBot, type Bot, type BotOptions } from "./app.ts";
export { BotError, type ErrorContext, type ErrorHandler } from "./error-hook.ts";
export type * from "./port/host.ts";
export { EventFeed, type EventFeedOptions, type SubscribeOptions } from "./events/feed.ts";
export type { FeedEvent, FeedEventData, FeedEventType, FeedListener, FinalStatus, NewFeedEvent, TaskEventType, Unsubscribe } from "./events/types.ts";
export { defineWorkflow } from "./tasks/workflow.ts";
export type { Workflow, WorkflowContext, WorkflowResult, WorkflowRequest, ReviewVerdict, AskOptions, ReviewOptions, StepOptions } from "./tasks/workflow.ts";
export type { Adapter, AdapterCapabilities, AdapterStartContext, CommandInfo, InboundHandler, NoticeOptions } from "./port/adapter.ts";
export type { AdapterFactoryContext, AdapterModule } from "./port/adapter.ts";
export type { Store, SessionFilter, TaskFilter, Page, PageRequest, FeedFilter, FeedPageRequest } from "./store/port.ts";
export type * from "./model.ts";
export { sessionKey } from "./model.ts";
export type { Task, TaskStatus, PendingWait, TaskResult, JournalEntry, JournalCall, JournalCallKind, OutboxRecord, Schedule, MissedPolicy, FeedRecord, NewFeedRecord } from "./store/records.ts";
export { NonDeterminismError } from "./tasks/replay-check.ts";
export { createMemoryStore } from "./store/memory.ts";
export { createLowdbStore } from "./store/lowdb/index.ts";
export { loadConfig, parseConfig } from "./config/load.ts";
export type { Config, ConfigInput } from "./config/schema.ts";
export { createLogger, silentLogger, type Logger } from "./logger.ts";
export { progressBar } from "./render/progress-bar.ts";
export {
  ChatflowError,
  ConfigError,
  NonRetriableError,
  NotImplementedError,
  StoreCorruptError,
  StoreLockedError,
  TaskCancelledError,
  TaskTimeoutError,
  RateLimitError,
  AuthenticationError,
  PermissionError,
  NotFoundError,
  NetworkError,
} from "./errors.ts";
export { createRecordingAdapter, type RecordingAdapter, type RecordedNotice } from "./testing/recording-adapter.ts";
export { runWorkflow, type RunWorkflowOptions, type ScriptedAnswer, type WorkflowRun } from "./testing/run-workflow.ts";
export { scriptedModel, type ScriptedModel, type ScriptedTurn } from "./testing/scripted-model.ts";
export { defineAgent, isAgent, type Agent, type AgentOptions, type AgentModel } from "./agents/define-agent.ts";
export type { ModelSettings } from "./agents/model-call.ts";
/** The AI SDK's tool definition, for an agent's tools (the same function as `import { tool } from "ai"`). */
export { tool } from "ai";
