export { createMemoryInbox } from './memory';
export { inboxRecordSize, isVerifiedRecord, resolveInboxBudget } from './budget';
export type { InboxBudget, InboxBudgetOptions } from './budget';
export { REDACTED, REDACTED_HEADERS, redactHeaders } from './redact';
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './filter';
export type {
  Inbox,
  InboxEntry,
  InboxEvent,
  InboxFilter,
  InboxList,
  InboxPage,
  InboxRecord,
  InboxRecordOptions,
  InboxUpdate,
  MemoryInbox,
  MemoryInboxCounts,
  MemoryInboxOptions,
} from './types';
