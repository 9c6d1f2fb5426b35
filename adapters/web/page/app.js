// The chatflow web chat: sign-in, sessions, the conversation over the live event feed
// (Server-Sent Events read with fetch, so the token stays in a header), progress,
// questions, reviews and results. Plain DOM, no framework; text is only ever set as text
// (the bot's markdown is built as DOM nodes, never parsed as HTML).

const API = new URL("api/v1/", document.baseURI).href;
const TOKEN_KEY = "chatflow.token";
const SESSION_KEY = "chatflow.session";
const PAGE_SIZE = 30;

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const el = {
  loading: $("loading"),
  signin: $("signin"),
  signinForm: /** @type {HTMLFormElement} */ ($("signin-form")),
  token: /** @type {HTMLInputElement} */ ($("token")),
  signinError: $("signin-error"),
  app: $("app"),
  toggle: $("toggle-sessions"),
  connection: $("connection"),
  connectionText: $("connection-text"),
  signout: $("signout"),
  sessions: $("sessions"),
  newSession: $("new-session"),
  sessionList: $("session-list"),
  sessionsEmpty: $("sessions-empty"),
  sessionsError: $("sessions-error"),
  moreSessions: $("more-sessions"),
  chatTitle: $("chat-title"),
  chatActions: $("chat-actions"),
  rename: $("rename"),
  renameForm: /** @type {HTMLFormElement} */ ($("rename-form")),
  renameInput: /** @type {HTMLInputElement} */ ($("rename-input")),
  renameCancel: $("rename-cancel"),
  del: $("delete"),
  deleteConfirm: $("delete-confirm"),
  deleteYes: $("delete-yes"),
  deleteNo: $("delete-no"),
  chatError: $("chat-error"),
  log: $("log"),
  task: $("task"),
  taskLabel: $("task-label"),
  taskState: $("task-state"),
  taskError: $("task-error"),
  cancelTask: /** @type {HTMLButtonElement} */ ($("cancel-task")),
  progress: $("progress"),
  progressFill: $("progress-fill"),
  composer: /** @type {HTMLFormElement} */ ($("composer")),
  message: /** @type {HTMLTextAreaElement} */ ($("message")),
  send: /** @type {HTMLButtonElement} */ ($("send")),
  composerError: $("composer-error"),
  composerChoice: $("composer-choice"),
  composerChoiceText: $("composer-choice-text"),
  sendNewSession: /** @type {HTMLButtonElement} */ ($("send-new-session")),
  sendAfterCancel: /** @type {HTMLButtonElement} */ ($("send-after-cancel")),
  choiceBack: $("choice-back"),
};

const state = {
  /** The bearer token, or "" when the server needs none. */
  token: sessionStorage.getItem(TOKEN_KEY) ?? "",
  /** @type {Array<any>} */
  sessions: [],
  sessionsOffset: 0,
  /** @type {string | null} */
  current: null,
  /** @type {Feed | null} */
  feed: null,
  /** Who is signed in (GET /me): `{id, reviewer}`. */
  /** @type {{id: string, reviewer: boolean} | null} */
  me: null,
  /** The longest message the server takes, once a refusal has told (then checked before sending). */
  /** @type {number | null} */
  maxLength: null,
};

// ---------------------------------------------------------------- API

class ApiFailure extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function authHeaders() {
  return state.token ? { Authorization: `Bearer ${state.token}` } : {};
}

/** A JSON call to the API; throws ApiFailure carrying the server's message. */
async function api(method, path, body, token = state.token) {
  let response;
  try {
    response = await fetch(API + path, {
      method,
      headers: { Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    // The live feed tells the connection's state while it is open; without it, this call does.
    if (!state.feed?.open) setConnection("offline");
    throw new ApiFailure(0, "network", "The server can't be reached. Check the connection and try again.");
  }
  if (!state.feed || state.feed.open) setConnection("connected");
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = data && typeof data.message === "string" ? data.message : `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}.`;
    const failure = new ApiFailure(response.status, data && typeof data.error === "string" ? data.error : "http", message);
    if (response.status === 401 && token === state.token && state.token) signOut(message);
    throw failure;
  }
  return data;
}

/**
 * Shows an error's message in `target` (a role=alert element); clears it with no error. A
 * failure to reach the server is marked, so that it goes once the page is connected again.
 */
function showError(target, error, message = error instanceof Error ? error.message : String(error ?? "")) {
  target.textContent = error ? message : "";
  if (error instanceof ApiFailure && error.status === 0) target.dataset.network = "true";
  else delete target.dataset.network;
}

/** A number as the person's locale writes it (20,000). */
const formatCount = (n) => n.toLocaleString();

/** An API refusal in a person's words, where the server's sentence is written for developers (a field name, a setting). */
function personWords(error) {
  if (!(error instanceof ApiFailure)) return error instanceof Error ? error.message : String(error);
  const limit = /(\d[\d,.]*) characters; the limit is (\d[\d,.]*)/.exec(error.message);
  if (error.status === 400 && limit) {
    const most = Number(limit[2].replace(/\D/g, ""));
    if (most > 0) state.maxLength = most;
    return tooLong(Number(limit[1].replace(/\D/g, "")), most);
  }
  if (error.status === 0) return "The server can't be reached, so this was not sent; it is kept here. Send it again once the page is connected.";
  if (error.code === "closed") return "This session is closed: start a new one with New session, then send again.";
  return error.message;
}

function tooLong(length, most) {
  return `That message is too long: ${formatCount(length)} characters; the most is ${formatCount(most)}. Shorten it or send it in parts.`;
}

// ---------------------------------------------------------------- sign-in

function show(view) {
  el.loading.hidden = true;
  el.signin.hidden = view !== "signin";
  el.app.hidden = view !== "app";
}

async function boot() {
  try {
    state.me = await api("GET", "me");
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 401) {
      if (state.token) {
        state.token = "";
        sessionStorage.removeItem(TOKEN_KEY);
        showError(el.signinError, error);
      }
      show("signin");
      el.token.focus();
      return;
    }
    el.loading.textContent = error instanceof Error ? error.message : String(error);
    return;
  }
  enterApp();
}

el.signinForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = el.token.value.trim();
  if (!token) {
    showError(el.signinError, "Enter your API token.");
    el.token.focus();
    return;
  }
  const button = /** @type {HTMLButtonElement} */ (el.signinForm.querySelector("button[type=submit]"));
  button.disabled = true;
  showError(el.signinError, "");
  try {
    state.me = await api("GET", "me", undefined, token);
    state.token = token;
    sessionStorage.setItem(TOKEN_KEY, token);
    el.token.value = "";
    enterApp();
  } catch (error) {
    showError(el.signinError, error);
    el.token.focus();
    el.token.select();
  } finally {
    button.disabled = false;
  }
});

function signOut(message = "") {
  state.feed?.close();
  state.feed = null;
  state.token = "";
  state.me = null;
  state.current = null;
  state.sessions = [];
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(SESSION_KEY);
  el.sessionList.replaceChildren();
  clearConversation();
  showError(el.signinError, message);
  show("signin");
  el.token.focus();
}

el.signout.addEventListener("click", () => signOut());

function enterApp() {
  el.signout.hidden = !state.token;
  show("app");
  void loadSessions(true).then(() => {
    const remembered = sessionStorage.getItem(SESSION_KEY);
    const first = state.sessions.find((s) => s.id === remembered) ?? state.sessions[0];
    if (first) selectSession(first.id, { focus: false });
    else updateChatHeader();
  });
  el.message.focus();
}

// ---------------------------------------------------------------- sessions

function sessionName(session) {
  if (session.topic) return session.topic;
  const at = new Date(session.createdAt);
  return `Session of ${at.toLocaleDateString(undefined, { month: "short", day: "numeric" })}, ${at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })}`;
}

async function loadSessions(reset) {
  if (reset) state.sessionsOffset = 0;
  try {
    const page = await api("GET", `sessions?limit=${PAGE_SIZE}&offset=${state.sessionsOffset}`);
    state.sessions = reset ? page.items : [...state.sessions, ...page.items.filter((s) => !state.sessions.some((k) => k.id === s.id))];
    state.sessionsOffset += page.items.length;
    el.moreSessions.hidden = page.items.length < PAGE_SIZE;
    showError(el.sessionsError, "");
  } catch (error) {
    showError(el.sessionsError, error);
  }
  renderSessions();
}

el.moreSessions.addEventListener("click", () => void loadSessions(false));

function renderSessions() {
  const items = state.sessions.map((session) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "session";
    button.dataset.id = session.id;
    const name = document.createElement("span");
    name.className = "session-name";
    name.textContent = sessionName(session);
    const meta = document.createElement("span");
    meta.className = "session-meta";
    meta.textContent = `${session.state === "idle" ? "" : `${session.state} · `}${new Date(session.lastActiveAt).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" })}`;
    button.append(name, meta);
    if (session.id === state.current) button.setAttribute("aria-current", "true");
    button.addEventListener("click", () => selectSession(session.id, { focus: true }));
    li.append(button);
    return li;
  });
  el.sessionList.replaceChildren(...items);
  el.sessionsEmpty.hidden = state.sessions.length > 0;
}

let sessionsTimer;
/** The list shows each session's state: reload it (once) when a task starts or ends. */
function refreshSessionsSoon() {
  if (state.feed && el.log.getAttribute("aria-busy") === "true") return;
  clearTimeout(sessionsTimer);
  sessionsTimer = setTimeout(() => void loadSessions(true), 300);
}

function setSessionsOpen(open) {
  el.toggle.setAttribute("aria-expanded", String(open));
  el.sessions.classList.toggle("open", open);
}

el.toggle.addEventListener("click", () => {
  const open = el.toggle.getAttribute("aria-expanded") !== "true";
  setSessionsOpen(open);
  if (open) /** @type {HTMLElement | null} */ (el.sessions.querySelector("button"))?.focus();
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && el.sessions.classList.contains("open")) {
    setSessionsOpen(false);
    el.toggle.focus();
  }
});

async function createSession() {
  return listSession(await api("POST", "sessions", {}));
}

/** Puts a new session at the top of the list and opens it. */
function listSession(session) {
  state.sessions = [session, ...state.sessions.filter((s) => s.id !== session.id)];
  state.sessionsOffset += 1;
  renderSessions();
  selectSession(session.id, { focus: false });
  return session;
}

el.newSession.addEventListener("click", async () => {
  showError(el.sessionsError, "");
  el.newSession.setAttribute("aria-disabled", "true");
  try {
    await createSession();
    el.message.focus();
  } catch (error) {
    showError(el.sessionsError, error);
  } finally {
    el.newSession.removeAttribute("aria-disabled");
  }
});

function currentSession() {
  return state.sessions.find((s) => s.id === state.current) ?? null;
}

function updateChatHeader() {
  const session = currentSession();
  el.chatTitle.textContent = session ? sessionName(session) : "No session selected";
  el.chatActions.hidden = !session;
  el.renameForm.hidden = true;
  el.deleteConfirm.hidden = true;
  document.title = session ? `${sessionName(session)} · chatflow` : "chatflow";
}

function selectSession(id, { focus }) {
  setSessionsOpen(false);
  showError(el.chatError, "");
  showError(el.composerError, "");
  if (id === state.current && state.feed) {
    if (focus) el.message.focus();
    return;
  }
  state.current = id;
  sessionStorage.setItem(SESSION_KEY, id);
  renderSessions();
  updateChatHeader();
  clearConversation();
  state.feed?.close();
  state.feed = new Feed(id);
  if (focus) el.message.focus();
}

el.rename.addEventListener("click", () => {
  const session = currentSession();
  if (!session) return;
  el.renameInput.value = session.topic ?? "";
  el.chatActions.hidden = true;
  el.renameForm.hidden = false;
  el.renameInput.focus();
  el.renameInput.select();
});

function closeRename() {
  el.renameForm.hidden = true;
  el.chatActions.hidden = !currentSession();
  el.rename.focus();
}

el.renameCancel.addEventListener("click", closeRename);
el.renameForm.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeRename();
});

el.renameForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const session = currentSession();
  const topic = el.renameInput.value.trim();
  if (!session) return;
  if (!topic) {
    showError(el.chatError, "Give the session a name.");
    el.renameInput.focus();
    return;
  }
  try {
    const updated = await api("PATCH", `sessions/${encodeURIComponent(session.id)}`, { topic });
    Object.assign(session, updated);
    showError(el.chatError, "");
    renderSessions();
    updateChatHeader();
    el.rename.focus();
  } catch (error) {
    showError(el.chatError, error);
  }
});

el.del.addEventListener("click", () => {
  el.chatActions.hidden = true;
  el.deleteConfirm.hidden = false;
  el.deleteNo.focus();
});

el.deleteNo.addEventListener("click", () => {
  el.deleteConfirm.hidden = true;
  el.chatActions.hidden = false;
  el.del.focus();
});

el.deleteYes.addEventListener("click", async () => {
  const session = currentSession();
  if (!session) return;
  try {
    await api("DELETE", `sessions/${encodeURIComponent(session.id)}`);
    state.sessions = state.sessions.filter((s) => s.id !== session.id);
    state.sessionsOffset = Math.max(0, state.sessionsOffset - 1);
    state.feed?.close();
    state.feed = null;
    state.current = null;
    sessionStorage.removeItem(SESSION_KEY);
    clearConversation();
    renderSessions();
    const next = state.sessions[0];
    if (next) selectSession(next.id, { focus: false });
    else updateChatHeader();
    el.newSession.focus();
  } catch (error) {
    showError(el.chatError, error);
  }
});

// ---------------------------------------------------------------- sending

el.message.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    el.composer.requestSubmit();
  }
});

let sending = false;
el.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = el.message.value.trim();
  if (!text || sending) return;
  if (state.maxLength !== null && text.length > state.maxLength) {
    showError(el.composerError, tooLong(text.length, state.maxLength));
    return;
  }
  // A question with choices, or a review, waits: a text that answers neither would not be
  // taken as a new request (the bot asks again for the answer), so ask which was meant.
  const open = waitingHere();
  if (open && !text.startsWith("/") && !answersQuestion(open, text)) return askWhichMeant(open, text);
  void send(text, { session: currentSession() });
});

/**
 * Sends `text` in `session`, or in a new session (none, or `session: null`) that joins the list
 * only once the message is taken: a refused first message leaves no empty session behind.
 * The text stays in the box until it is taken.
 */
async function send(text, { session }) {
  sending = true;
  el.send.disabled = true;
  showError(el.composerError, "");
  hideWhichMeant();
  let fresh = null;
  try {
    if (!session) session = fresh = await api("POST", "sessions", {});
    const firstWords = !session.topic && !text.startsWith("/");
    try {
      await api("POST", `sessions/${encodeURIComponent(session.id)}/messages`, { text });
    } catch (error) {
      if (fresh) void api("DELETE", `sessions/${encodeURIComponent(fresh.id)}`).catch(() => {});
      throw error;
    }
    if (fresh) listSession(fresh);
    if (el.message.value.trim() === text) el.message.value = "";
    if (firstWords) void nameAfter(session, text);
    else void loadSessions(true);
  } catch (error) {
    showError(el.composerError, error, personWords(error));
  } finally {
    sending = false;
    el.send.disabled = false;
    el.message.focus();
  }
}

// ---------------------------------------------------------------- a text while a question waits

/** The open question or review of the task shown, if it waits. */
function waitingHere() {
  const t = view.taskId ? view.tasks.get(view.taskId) : undefined;
  if (!t || t.finished || t.state !== "waiting") return null;
  return view.open.get(t.id)?.at(-1) ?? null;
}

/** Whether a typed text answers the open question, as the engine reads it: any text a free question; a choice's number or its text. */
function answersQuestion(open, text) {
  if (open.kind !== "question") return false;
  if (!open.choices?.length) return true;
  const typed = text.trim().toLowerCase();
  if (/^\d+$/.test(typed)) return Number(typed) >= 1 && Number(typed) <= open.choices.length;
  return open.choices.some((choice) => choice.toLowerCase() === typed);
}

/** @type {{text: string, taskId: string} | null} */
let pendingText = null;

function askWhichMeant(open, text) {
  pendingText = { text, taskId: open.taskId };
  const what = open.kind === "question" ? `The question above waits for a choice (${open.choices.join(", ")}).` : "The review above waits for Approve, Edit or Reject.";
  el.composerChoiceText.textContent = `${what} Send it as a new request?`;
  el.composerChoice.hidden = false;
  showError(el.composerError, "");
  el.sendNewSession.focus();
}

function hideWhichMeant() {
  pendingText = null;
  el.composerChoice.hidden = true;
}

el.sendNewSession.addEventListener("click", () => {
  if (pendingText && !sending) void send(pendingText.text, { session: null });
});

el.sendAfterCancel.addEventListener("click", async () => {
  const pending = pendingText;
  if (!pending || sending) return;
  el.sendAfterCancel.disabled = true;
  try {
    await api("POST", `tasks/${encodeURIComponent(pending.taskId)}/cancel`);
    await send(pending.text, { session: currentSession() });
  } catch (error) {
    showError(el.composerError, error, personWords(error));
  } finally {
    el.sendAfterCancel.disabled = false;
  }
});

el.choiceBack.addEventListener("click", () => {
  hideWhichMeant();
  el.message.focus();
});

el.composerChoice.addEventListener("keydown", (event) => {
  if (event.key === "Escape") el.choiceBack.click();
});

// Another text is another question: the offer was about the one typed.
el.message.addEventListener("input", () => {
  if (pendingText && el.message.value.trim() !== pendingText.text) hideWhichMeant();
});

/** A session without a topic is named after its first request (best effort). */
async function nameAfter(session, text) {
  const topic = text.replace(/\s+/g, " ").slice(0, 60);
  try {
    const updated = await api("PATCH", `sessions/${encodeURIComponent(session.id)}`, { topic });
    Object.assign(session, updated);
    if (session.id === state.current) updateChatHeader();
  } catch {
    // The name is a nicety; the list reload shows what the server has.
  }
  await loadSessions(true);
}

// ---------------------------------------------------------------- the conversation

/**
 * What the page knows of the session's tasks and bubbles; reset on switching sessions.
 * `items`: bubbles of a task's typed events (question, review, result) and of its history
 * messages, so that the two (the feed carries both) show once.
 */
let view = freshView();

function freshView() {
  return {
    /** @type {Map<string, {id: string, title: string, percent: number, step: string, state: string, finished: boolean}>} */
    tasks: new Map(),
    /** @type {string | null} */
    taskId: null,
    /** @type {Map<string, Array<{text: string, kind: string, node: HTMLElement, paired: boolean}>>} */
    items: new Map(),
    /** @type {Map<string, HTMLElement>} */
    replies: new Map(),
    /** @type {Map<string, Array<OpenItem>>} */
    open: new Map(),
    /** Each task's review: its draft, and the text approved (to show it once with the result). */
    /** @type {Map<string, {draft: string, details: HTMLDetailsElement, summary: HTMLElement, approved?: string, edited?: boolean}>} */
    reviews: new Map(),
  };
}

function clearConversation() {
  view = freshView();
  hideWhichMeant();
  const empty = document.createElement("p");
  empty.className = "muted empty";
  empty.textContent = state.current ? "Nothing here yet: write what you need below." : "Start a new session, or pick one from the list, then write what you need.";
  el.log.replaceChildren(empty);
  el.task.hidden = true;
  showError(el.taskError, "");
  setProgress(0);
}

function nearBottom() {
  return el.log.scrollHeight - el.log.scrollTop - el.log.clientHeight < 80;
}

function append(node) {
  const stick = nearBottom();
  el.log.querySelector(".empty")?.remove();
  el.log.append(node);
  if (stick) el.log.scrollTop = el.log.scrollHeight;
}

function keepAtBottom(fn) {
  const stick = nearBottom();
  fn();
  if (stick) el.log.scrollTop = el.log.scrollHeight;
}

function timeOf(iso) {
  const at = iso ? new Date(iso) : new Date();
  const time = document.createElement("time");
  time.dateTime = at.toISOString();
  time.textContent = at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  return time;
}

/**
 * A bubble: `who` is read out before the text (hidden visually for the person's own). The
 * bot's words are markdown (`markdown`); a person's, and errors, show as typed.
 */
function bubble(kind, who, text, at, { markdown = false } = {}) {
  const article = document.createElement("article");
  article.className = `msg ${kind}`;
  const head = document.createElement("header");
  head.className = "msg-head";
  const name = document.createElement("span");
  name.className = "msg-who";
  name.textContent = who;
  head.append(name, timeOf(at));
  const body = document.createElement("div");
  body.className = markdown ? "msg-text md" : "msg-text";
  setText(body, text, markdown);
  article.append(head, body);
  return article;
}

function setText(body, text, markdown) {
  if (markdown) body.replaceChildren(renderMarkdown(text));
  else body.textContent = text;
}

function safeUrl(url) {
  try {
    const parsed = new URL(url, document.baseURI);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- the bot's markdown

/*
 * The markdown the bot writes, as the other channels show it (**bold**, _italic_, `code`,
 * bare links), with what a page can show besides: *italic*, fenced code blocks, bulleted and
 * numbered lists, [links](https://…), and the "/command — what it does" lines of /help as a
 * list. Built as DOM nodes from text: nothing is parsed as HTML, and a link goes only to an
 * http(s) or mailto address (anything else stays text).
 */
const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([^`\s]*)\s*$/;
const BULLET = /^\s{0,3}[-*+•]\s+(.*)$/;
const NUMBERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
const HEADING = /^\s{0,3}#{1,6}\s+(.*?)[\s#]*$/;
const COMMAND_LINE = /^(\/[a-z][\w-]*(?:\s+[^—\s][^—]*?)?)\s+—\s+(\S.*)$/i;

/** Inline spans, each with the tag it becomes (its text read as markdown again) or what it makes. */
const SPANS = [
  { re: /`([^`\n]+)`/g, make: (m) => textElement("code", m[1]) },
  { re: /\[([^\]\n]+)\]\(\s*([^()\s]+)\s*\)/g, make: (m) => linkElement(m[2], m[1]) },
  { re: /\b(?:https?:\/\/|mailto:)[^\s<>"]*[^\s<>"'.,;:!?)\]]/g, make: (m) => linkElement(m[0], m[0]) },
  { re: /\*\*(?=\S)(.+?)(?<=\S)\*\*/g, tag: "strong" },
  // `_x_` and `*x*` only at word edges: snake_case and 2*3*4 keep their characters.
  { re: /(?<![\p{L}\p{N}_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\p{L}\p{N}_])/gu, tag: "em" },
  { re: /(?<![\p{L}\p{N}*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\p{L}\p{N}*])/gu, tag: "em" },
];

function textElement(tag, text) {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}

/** A link that opens in a new tab, or null when the address is not http(s) or mailto. */
function linkElement(url, label) {
  let href;
  try {
    const parsed = new URL(url);
    if (!["http:", "https:", "mailto:"].includes(parsed.protocol)) return null;
    href = parsed.href;
  } catch {
    return null;
  }
  const a = textElement("a", label);
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  return a;
}

/** Appends one line's inline markdown to `parent`: the earliest span first, the text between as text. */
function inline(text, parent) {
  const next = SPANS.map(() => /** @type {RegExpExecArray | null | undefined} */ (undefined));
  let at = 0;
  while (at < text.length) {
    let best = -1;
    for (let i = 0; i < SPANS.length; i++) {
      let found = next[i];
      if (found === undefined || (found && found.index < at)) {
        SPANS[i].re.lastIndex = at;
        next[i] = found = SPANS[i].re.exec(text);
      }
      if (found && (best < 0 || found.index < /** @type {RegExpExecArray} */ (next[best]).index)) best = i;
    }
    if (best < 0) break;
    const found = /** @type {RegExpExecArray} */ (next[best]);
    if (found.index > at) parent.append(text.slice(at, found.index));
    const span = SPANS[best];
    if (span.tag) {
      const node = document.createElement(span.tag);
      inline(found[1], node);
      parent.append(node);
    } else parent.append(span.make?.(found) ?? found[0]);
    at = found.index + found[0].length;
  }
  if (at < text.length) parent.append(text.slice(at));
}

/** The bot's text as nodes: paragraphs (lines kept), lists, code blocks. */
function renderMarkdown(text) {
  const out = document.createDocumentFragment();
  const lines = String(text).split(/\r\n|\r|\n/);
  /** The paragraph or list that the next line may continue. @type {HTMLElement | null} */
  let open = null;
  const list = (tag, className = "") => {
    if (open?.tagName !== tag.toUpperCase() || open.className !== className) {
      open = document.createElement(tag);
      if (className) open.className = className;
      out.append(open);
    }
    const li = document.createElement("li");
    open.append(li);
    return li;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m;
    if ((m = FENCE.exec(line))) {
      const close = new RegExp(`^\\s{0,3}${m[1][0] === "`" ? "`" : "~"}{${m[1].length},}\\s*$`);
      const body = [];
      while (++i < lines.length && !close.test(lines[i])) body.push(lines[i]);
      const pre = document.createElement("pre");
      pre.append(textElement("code", body.join("\n")));
      out.append(pre);
      open = null;
    } else if (!line.trim()) {
      open = null;
    } else if ((m = COMMAND_LINE.exec(line))) {
      const li = list("ul", "commands");
      li.append(textElement("code", m[1]), " — ");
      inline(m[2], li);
    } else if ((m = BULLET.exec(line))) {
      inline(m[1], list("ul"));
    } else if ((m = NUMBERED.exec(line))) {
      const fresh = open?.tagName !== "OL";
      const li = list("ol");
      if (fresh && m[1] !== "1") /** @type {HTMLOListElement} */ (open).start = Number(m[1]);
      inline(m[2], li);
    } else if ((m = HEADING.exec(line))) {
      const p = document.createElement("p");
      p.className = "heading";
      inline(m[1], p.appendChild(document.createElement("strong")));
      out.append(p);
      open = null;
    } else if (open && (open.tagName === "P" || /^\s/.test(line))) {
      // A line of the paragraph, or an indented line continuing the list's last item.
      const target = open.tagName === "P" ? open : /** @type {HTMLElement} */ (open.lastElementChild);
      target.append(document.createElement("br"));
      inline(line.trim(), target);
    } else {
      open = document.createElement("p");
      inline(line, open);
      out.append(open);
    }
  }
  return out;
}

function linkList(links) {
  const nav = document.createElement("nav");
  nav.className = "links";
  nav.setAttribute("aria-label", "References");
  const title = document.createElement("p");
  title.className = "links-title";
  title.textContent = "References";
  const ul = document.createElement("ul");
  for (const link of links) {
    const href = safeUrl(link.url);
    const li = document.createElement("li");
    if (href) {
      const a = document.createElement("a");
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = link.title || href;
      li.append(a);
    } else {
      li.textContent = link.title ? `${link.title} (${link.url})` : String(link.url);
    }
    ul.append(li);
  }
  nav.append(title, ul);
  return nav;
}

function withLinks(node, links) {
  if (!links?.length || node.querySelector(".links")) return;
  node.append(linkList(links));
}

function itemsOf(taskId) {
  let list = view.items.get(taskId);
  if (!list) view.items.set(taskId, (list = []));
  return list;
}

/** A bubble of the task with this text not yet paired with its twin (the message or the typed event). */
function unpaired(taskId, text, from) {
  return itemsOf(taskId).find((item) => !item.paired && item.text === text && (from === "message" ? item.kind !== "message" : item.kind === "message"));
}

function task(taskId) {
  let t = view.tasks.get(taskId);
  if (!t) {
    t = { id: taskId, title: "", percent: 0, step: "", state: "queued", finished: false };
    view.tasks.set(taskId, t);
  }
  if (view.taskId !== taskId && !t.finished) view.taskId = taskId;
  return t;
}

const STATE_NAMES = { queued: "Queued", running: "Running", waiting: "Waiting for you", completed: "Completed", failed: "Failed", cancelled: "Cancelled" };

function setProgress(percent) {
  const value = Math.max(0, Math.min(100, Math.round(percent)));
  el.progress.setAttribute("aria-valuenow", String(value));
  el.progress.setAttribute("aria-valuetext", `${value}%`);
  el.progressFill.style.width = `${value}%`;
}

function renderTask() {
  const t = view.taskId ? view.tasks.get(view.taskId) : undefined;
  if (!t) {
    el.task.hidden = true;
    return;
  }
  el.task.hidden = false;
  // The workflow's name is the bot's, not the person's: its title when the feed gives one, and the step.
  el.taskLabel.textContent = [t.title, t.step].filter(Boolean).join(": ") || "Your request";
  el.taskState.textContent = `${STATE_NAMES[t.state] ?? t.state} · ${Math.round(t.percent)}%`;
  el.task.dataset.state = t.state;
  setProgress(t.percent);
  el.cancelTask.hidden = t.finished;
}

el.cancelTask.addEventListener("click", async () => {
  const id = view.taskId;
  if (!id) return;
  showError(el.taskError, "");
  el.cancelTask.disabled = true;
  try {
    await api("POST", `tasks/${encodeURIComponent(id)}/cancel`);
  } catch (error) {
    showError(el.taskError, error);
  } finally {
    el.cancelTask.disabled = false;
  }
});

/**
 * An open question or review: its bubble, how to end it, and what answers it.
 * @typedef {{taskId: string, kind: "question" | "review", choices?: string[], node: HTMLElement, done: (summary: string) => void}} OpenItem
 */

/** Marks a task's open question or review as answered (or closed) with a line saying how. */
function closeOpen(taskId, summary) {
  for (const item of view.open.get(taskId) ?? []) item.done(summary);
  view.open.delete(taskId);
  if (pendingText?.taskId === taskId) hideWhichMeant();
}

/** @param {OpenItem} item */
function registerOpen(item) {
  const list = view.open.get(item.taskId) ?? [];
  list.push(item);
  view.open.set(item.taskId, list);
}

/** An area of a question or review: its error line and a way to end it. */
function interaction(container) {
  const error = document.createElement("p");
  error.className = "error";
  error.setAttribute("role", "alert");
  const summary = document.createElement("p");
  summary.className = "answered";
  summary.hidden = true;
  container.append(error, summary);
  return {
    error,
    done(text) {
      for (const control of container.querySelectorAll(".controls")) control.remove();
      error.textContent = "";
      summary.textContent = text;
      summary.hidden = !text;
    },
  };
}

/** Runs an answer call for an open question or review; keeps focus sensible when its controls go. */
async function act(box, controls, path, body) {
  const buttons = controls.querySelectorAll("button, input, textarea");
  for (const b of buttons) /** @type {HTMLButtonElement} */ (b).disabled = true;
  showError(box.error, "");
  try {
    await api("POST", path, body);
    if (controls.contains(document.activeElement) || document.activeElement === document.body) el.message.focus();
  } catch (error) {
    showError(box.error, error, personWords(error));
    for (const b of buttons) /** @type {HTMLButtonElement} */ (b).disabled = false;
  }
}

let formIds = 0;

function questionNode(ev) {
  const taskId = ev.taskId;
  const { question, choices, expectsText } = ev.data;
  const node = bubble("bot question", "Question", question, ev.at, { markdown: true });
  const box = interaction(node);
  const controls = document.createElement("div");
  controls.className = "controls";
  if (choices?.length) {
    const group = document.createElement("div");
    group.className = "choices";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Choices");
    for (const choice of choices) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "choice";
      b.textContent = choice;
      b.addEventListener("click", () => void act(box, controls, `tasks/${encodeURIComponent(taskId)}/answer`, { choice }));
      group.append(b);
    }
    controls.append(group);
  }
  if (expectsText || !choices?.length) {
    const form = document.createElement("form");
    form.className = "answer-form";
    const id = `answer-${++formIds}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = "Your answer";
    const input = document.createElement("input");
    input.id = id;
    input.required = true;
    input.autocomplete = "off";
    const submit = document.createElement("button");
    submit.type = "submit";
    submit.className = "primary";
    submit.textContent = "Answer";
    form.append(label, input, submit);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) {
        box.error.textContent = "Write an answer first.";
        input.focus();
        return;
      }
      void act(box, controls, `tasks/${encodeURIComponent(taskId)}/answer`, { text });
    });
    controls.append(form);
  }
  node.insertBefore(controls, box.error);
  registerOpen({ taskId, kind: "question", ...(choices?.length ? { choices } : {}), node, done: box.done });
  return node;
}

function reviewNode(ev) {
  const taskId = ev.taskId;
  const { question, data, label } = ev.data;
  const node = bubble("bot review", "Review", question, ev.at, { markdown: true });
  const draft = typeof data === "string" ? data : data === undefined ? "" : JSON.stringify(data, null, 2);
  if (draft) {
    // Open while it waits; folded to one line once the result shows the approved text.
    const details = document.createElement("details");
    details.className = "draft";
    details.open = true;
    const summary = textElement("summary", typeof label === "string" && label ? label : "Draft");
    details.append(summary, textElement("pre", draft));
    node.append(details);
    view.reviews.set(taskId, { draft, details, summary });
  }
  const box = interaction(node);
  const controls = document.createElement("div");
  controls.className = "controls";
  const path = `tasks/${encodeURIComponent(taskId)}/review`;

  const buttons = document.createElement("div");
  buttons.className = "choices";
  buttons.setAttribute("role", "group");
  buttons.setAttribute("aria-label", "Review");
  const approve = document.createElement("button");
  approve.type = "button";
  approve.className = "primary";
  approve.textContent = "Approve";
  const reject = document.createElement("button");
  reject.type = "button";
  reject.className = "danger";
  reject.textContent = "Reject";
  const edit = document.createElement("button");
  edit.type = "button";
  edit.textContent = "Edit";
  edit.setAttribute("aria-expanded", "false");
  buttons.append(approve, edit, reject);

  const n = ++formIds;
  const form = document.createElement("form");
  form.className = "edit-form";
  form.hidden = true;
  form.id = `edit-${n}`;
  edit.setAttribute("aria-controls", form.id);
  const textLabel = document.createElement("label");
  textLabel.htmlFor = `edited-${n}`;
  textLabel.textContent = "Corrected text";
  const textarea = document.createElement("textarea");
  textarea.id = `edited-${n}`;
  textarea.rows = Math.min(14, Math.max(4, draft.split("\n").length + 1));
  textarea.value = draft;
  const feedbackLabel = document.createElement("label");
  feedbackLabel.htmlFor = `feedback-${n}`;
  feedbackLabel.textContent = "Feedback (optional)";
  const feedback = document.createElement("input");
  feedback.id = `feedback-${n}`;
  feedback.autocomplete = "off";
  const row = document.createElement("div");
  row.className = "row";
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.className = "primary";
  submit.textContent = "Approve with changes";
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "Close";
  row.append(submit, close);
  form.append(textLabel, textarea, feedbackLabel, feedback, row);

  approve.addEventListener("click", () => void act(box, controls, path, { approved: true }));
  reject.addEventListener("click", () => void act(box, controls, path, { approved: false }));
  edit.addEventListener("click", () => {
    const open = form.hidden;
    form.hidden = !open;
    edit.setAttribute("aria-expanded", String(open));
    if (open) textarea.focus();
  });
  close.addEventListener("click", () => {
    form.hidden = true;
    edit.setAttribute("aria-expanded", "false");
    edit.focus();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const edited = textarea.value;
    if (!edited.trim()) {
      box.error.textContent = "The corrected text is empty; write it, or Reject the draft.";
      textarea.focus();
      return;
    }
    const note = feedback.value.trim();
    void act(box, controls, path, { approved: true, edited, ...(note ? { feedback: note } : {}) });
  });
  controls.append(buttons, form);
  node.insertBefore(controls, box.error);
  registerOpen({ taskId, kind: "review", node, done: box.done });
  return node;
}

function answeredSummary(data) {
  // Who answered, when it was someone else (a reviewer).
  const other = data.by && data.by !== state.me?.id ? data.by : "";
  if (data.kind === "ask") return `Answered: ${data.answer}${other ? ` (by ${other})` : ""}`;
  const how = data.approved ? (data.edited !== undefined ? "Approved with changes" : "Approved") : "Rejected";
  return `${how}${other ? ` by ${other}` : ""}${data.feedback ? ` — feedback: ${data.feedback}` : ""}`;
}

/** Folds a review's draft to one line when the result shows the approved text again (two screens of it on a phone). */
function foldApprovedDraft(taskId, result) {
  const review = view.reviews.get(taskId);
  const words = (text) => text.replace(/\s+/g, " ").trim();
  if (!review?.approved || !words(result).includes(words(review.approved))) return;
  keepAtBottom(() => {
    review.details.open = false;
    review.summary.textContent = review.edited ? "Original draft (edited below)" : "Approved draft: the result below";
  });
}

/** What a task event says about its session's state, shown in the side list at once (a reload later confirms it). */
const SESSION_STATE = { start: "running", answered: "running", question: "waiting", review: "waiting", end: "idle" };

/** Applies one feed event to the page. */
function apply(ev) {
  const d = ev.data ?? {};
  const shown = state.sessions.find((s) => s.id === ev.sessionId);
  const now = SESSION_STATE[ev.type];
  if (shown && now && shown.state !== now) {
    shown.state = now;
    renderSessions();
  }
  switch (ev.type) {
    case "message": {
      // The bot's replies to commands come as their own `reply` events: their history entries would show them twice.
      if (d.role === "assistant" && d.source === "command") return;
      // A person's answer to a task's question enters the history too; the page shows it with the question (`answered`).
      if (d.role === "user" && ev.taskId) return;
      if (d.role === "assistant" && ev.taskId) {
        const twin = unpaired(ev.taskId, d.text, "message");
        if (twin) {
          twin.paired = true;
          withLinks(twin.node, d.links);
          return;
        }
      }
      const who = d.role === "user" ? (d.user && d.user !== state.me?.id ? d.user : "You") : d.role === "system" ? "System" : "chatflow";
      const node = bubble(d.role === "user" ? "user" : d.role === "system" ? "system" : "bot", who, d.text, ev.at, { markdown: d.role === "assistant" });
      if (d.source === "command") node.classList.add("command");
      withLinks(node, d.links);
      if (ev.taskId && d.role === "assistant") itemsOf(ev.taskId).push({ text: d.text, kind: "message", node, paired: false });
      append(node);
      return;
    }
    case "reply": {
      const existing = view.replies.get(d.messageId);
      if (existing) {
        keepAtBottom(() => {
          setText(/** @type {HTMLElement} */ (existing.querySelector(".msg-text")), d.text, true);
          existing.querySelector(".links")?.remove();
          withLinks(existing, d.links);
        });
        return;
      }
      const node = bubble(`bot ${d.kind === "notice" ? "notice" : "reply"}`, d.kind === "notice" ? "Notice" : "chatflow", d.text, ev.at, { markdown: true });
      node.dataset.messageId = d.messageId;
      withLinks(node, d.links);
      view.replies.set(d.messageId, node);
      append(node);
      return;
    }
    case "start": {
      refreshSessionsSoon();
      const t = task(ev.taskId);
      if (typeof d.title === "string") t.title = d.title;
      t.state = "running";
      view.taskId = ev.taskId;
      renderTask();
      return;
    }
    case "progress": {
      const t = task(ev.taskId);
      if (t.finished) return;
      if (typeof d.percent === "number") t.percent = d.percent;
      if (d.step) t.step = d.step;
      if (d.state) t.state = d.state;
      renderTask();
      return;
    }
    case "question":
    case "review": {
      refreshSessionsSoon();
      const t = task(ev.taskId);
      t.state = "waiting";
      renderTask();
      closeOpen(ev.taskId, "");
      const node = ev.type === "question" ? questionNode(ev) : reviewNode(ev);
      const twin = unpaired(ev.taskId, d.question, ev.type);
      if (twin) {
        twin.paired = true;
        twin.node.replaceWith(node);
        itemsOf(ev.taskId).push({ text: d.question, kind: ev.type, node, paired: true });
      } else {
        itemsOf(ev.taskId).push({ text: d.question, kind: ev.type, node, paired: false });
        append(node);
      }
      return;
    }
    case "answered": {
      refreshSessionsSoon();
      closeOpen(ev.taskId, answeredSummary(d));
      const review = view.reviews.get(ev.taskId);
      if (review && d.kind === "review" && d.approved) Object.assign(review, { approved: d.edited ?? review.draft, edited: d.edited !== undefined });
      const t = task(ev.taskId);
      if (!t.finished) t.state = "running";
      renderTask();
      return;
    }
    case "result": {
      foldApprovedDraft(ev.taskId, d.text);
      const twin = unpaired(ev.taskId, d.text, "result");
      if (twin) {
        twin.paired = true;
        twin.node.classList.add("result");
        withLinks(twin.node, d.links);
        return;
      }
      const node = bubble("bot result", "chatflow", d.text, ev.at, { markdown: true });
      withLinks(node, d.links);
      itemsOf(ev.taskId).push({ text: d.text, kind: "result", node, paired: false });
      append(node);
      return;
    }
    case "error": {
      const node = bubble("bot failure", "Error", `The task failed: ${d.message}`, ev.at);
      append(node);
      return;
    }
    case "cancelled":
    case "end": {
      const t = task(ev.taskId);
      const status = ev.type === "cancelled" ? "cancelled" : d.status;
      t.state = status;
      t.finished = true;
      if (status === "completed") t.percent = 100;
      t.step = "";
      closeOpen(ev.taskId, status === "cancelled" ? "Not answered: the task was cancelled." : status === "failed" ? "Not answered: the task failed." : "");
      if (ev.type === "cancelled") append(bubble("bot notice", "Notice", `The task was cancelled${d.by ? ` by ${d.by}` : ""}.`, ev.at));
      renderTask();
      if (ev.type === "end") refreshSessionsSoon();
      return;
    }
    default:
      return;
  }
}

// ---------------------------------------------------------------- the live feed

/**
 * Follows one session's events over SSE, read with fetch (the token goes in a header, not the
 * URL). From seq 0 the whole feed replays, which draws the conversation; after a drop it
 * reconnects with Last-Event-ID, the last seq applied, and skips anything not newer.
 */
class Feed {
  /** @param {string} sessionId */
  constructor(sessionId) {
    this.sessionId = sessionId;
    this.lastSeq = 0;
    this.closed = false;
    /** Whether the stream is open now (the connection's state is the feed's to tell then). */
    this.open = false;
    this.attempt = 0;
    /** Ends the wait before the next attempt (the browser is back online). @type {(() => void) | null} */
    this.wake = null;
    /** @type {AbortController | null} */
    this.controller = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.quiet = undefined;
    el.log.setAttribute("aria-busy", "true");
    this.settle();
    void this.run();
  }

  close() {
    this.closed = true;
    this.controller?.abort();
    clearTimeout(this.timer);
    clearTimeout(this.quiet);
    this.wake?.();
    el.log.removeAttribute("aria-busy");
  }

  /** The replay of history is not read out: the log is busy until the feed goes quiet. */
  settle() {
    if (el.log.getAttribute("aria-busy") !== "true") return;
    clearTimeout(this.quiet);
    this.quiet = setTimeout(() => {
      if (!this.closed) el.log.removeAttribute("aria-busy");
    }, 300);
  }

  async run() {
    while (!this.closed) {
      const controller = new AbortController();
      this.controller = controller;
      let watchdog;
      const alive = () => {
        clearTimeout(watchdog);
        // The server sends a comment every 15 s; silence for longer means a dead connection.
        watchdog = setTimeout(() => controller.abort(), 45_000);
      };
      let answered = false;
      try {
        const headers = { Accept: "text/event-stream", ...authHeaders(), ...(this.lastSeq > 0 ? { "Last-Event-ID": String(this.lastSeq) } : {}) };
        const query = `events?session=${encodeURIComponent(this.sessionId)}${this.lastSeq > 0 ? "" : "&after=0"}`;
        alive();
        const response = await fetch(API + query, { headers, signal: controller.signal, cache: "no-store" });
        answered = true;
        if (!response.ok || !response.body) {
          let message = `The live feed answered ${response.status}.`;
          try {
            const body = await response.json();
            if (typeof body?.message === "string") message = body.message;
          } catch {
            // not JSON
          }
          if (response.status === 401) {
            clearTimeout(watchdog);
            if (!this.closed) signOut(message);
            return;
          }
          if (response.status === 404 || response.status === 403) {
            clearTimeout(watchdog);
            showError(el.chatError, message);
            setConnection("connected");
            return;
          }
          throw new Error(message);
        }
        this.attempt = 0;
        this.open = true;
        setConnection("connected");
        await this.read(response.body, alive);
      } catch (error) {
        if (this.closed) break;
        if (!(error instanceof DOMException && error.name === "AbortError")) console.debug("chatflow feed:", error);
      } finally {
        clearTimeout(watchdog);
        this.open = false;
      }
      if (this.closed) break;
      this.attempt++;
      const wait = Math.min(10_000, 250 * 2 ** Math.min(this.attempt - 1, 6)) * (0.75 + Math.random() / 2);
      // A server that answers, or a first few failures, is a connection coming back; more, or a
      // browser that knows it is offline, is offline.
      setConnection(!navigator.onLine || (!answered && this.attempt > 3) ? "offline" : "reconnecting");
      await new Promise((resolve) => {
        this.timer = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(this.timer);
          resolve(undefined);
        };
      });
      this.wake = null;
    }
  }

  /** Parses the event stream (text/event-stream) and applies each event once, in order. */
  async read(body, alive) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done || this.closed) return;
      alive();
      buffer += value;
      let at;
      while ((at = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + (buffer.startsWith("\r\n", at) ? 2 : 1));
        if (line === "") {
          if (data.length) this.dispatch(data.join("\n"));
          data = [];
        } else if (line.startsWith("data:")) {
          data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
        }
        // id: and event: repeat what the JSON carries (seq, type); comments keep the line alive.
      }
    }
  }

  dispatch(text) {
    let ev;
    try {
      ev = JSON.parse(text);
    } catch {
      return;
    }
    if (this.closed || typeof ev?.seq !== "number" || ev.seq <= this.lastSeq) return;
    this.lastSeq = ev.seq;
    if (ev.sessionId !== this.sessionId) return;
    try {
      apply(ev);
    } catch (error) {
      console.error("chatflow: could not show an event", ev, error);
    }
    this.settle();
  }
}

// ---------------------------------------------------------------- the connection

const CONNECTION = {
  connecting: ["Connecting…", "Connecting to the server."],
  connected: ["Connected", "Connected: the conversation is live."],
  reconnecting: ["Reconnecting…", "The connection dropped; reconnecting. Nothing is lost."],
  offline: ["Offline", "The server can't be reached; the page keeps trying, and catches up once back."],
};

/**
 * Shows the connection's state in the header. Back to connected, what failed for want of a
 * connection is no longer true: its error lines go, and the session list is fetched again.
 * @param {keyof typeof CONNECTION} next
 */
function setConnection(next) {
  const was = el.connection.dataset.state;
  if (was === next) return;
  el.connection.dataset.state = next;
  el.connectionText.textContent = CONNECTION[next][0];
  el.connection.title = CONNECTION[next][1];
  if (next !== "connected") return;
  for (const line of document.querySelectorAll("[data-network]")) showError(/** @type {HTMLElement} */ (line), "");
  if ((was === "offline" || was === "reconnecting") && !el.app.hidden) void loadSessions(true);
}

window.addEventListener("offline", () => setConnection("offline"));
window.addEventListener("online", () => {
  // Try at once rather than at the end of the back-off; a call that gets through says connected.
  if (state.feed && !state.feed.open) {
    setConnection("reconnecting");
    state.feed.wake?.();
  } else if (!el.app.hidden) void loadSessions(true);
});

void boot();
