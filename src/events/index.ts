export { EventFeed, type EventFeedOptions, type SubscribeOptions } from "./feed.ts";
export { withMessageEvents, messageEvent } from "./message-events.ts";
export type { FeedEvent, FeedEventData, FeedEventType, FeedFilter, FeedListener, FinalStatus, NewFeedEvent, TaskEventType, Unsubscribe } from "./types.ts";
