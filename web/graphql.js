// The only way the web app talks to the system: POST /graphql. Every failure is turned into an
// ApiError carrying a sentence a person can read, the GraphQL error code and any field errors.

const ENDPOINT = '/graphql';

export class ApiError extends Error {
  constructor(message, { code = null, details = [], path = null, service = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
    this.path = path;
    this.service = service; // 'ordering' | 'billing' | null: who failed, for UPSTREAM_UNAVAILABLE
  }
}

export const UNAVAILABLE = 'UPSTREAM_UNAVAILABLE';

// Which service a failing path belongs to: the innermost named field decides, so
// ["orders", "edges", 0, "node", "invoice"] is billing and ["invoiceByNumber", "order"] ordering.
const BILLING_FIELDS = /invoice|sync/i;
const ORDERING_FIELDS = /order/i;

export function serviceOf(path) {
  const names = (path ?? []).filter((segment) => typeof segment === 'string');
  for (let i = names.length - 1; i >= 0; i -= 1) {
    if (BILLING_FIELDS.test(names[i])) return 'billing';
    if (ORDERING_FIELDS.test(names[i])) return 'ordering';
  }
  return null;
}

export function unavailableMessage(service) {
  if (service === 'billing') return 'Invoices are unavailable right now. Try again in a moment.';
  if (service === 'ordering') return 'Orders are unavailable right now. Try again in a moment.';
  return 'Part of the system is unavailable right now. Try again in a moment.';
}

/** The failing upstream: the BFF names it in extensions.upstream; else the path tells. */
function failingService(error) {
  const upstream = String(error?.extensions?.upstream ?? '');
  if (/bill/i.test(upstream)) return 'billing';
  if (/order/i.test(upstream)) return 'ordering';
  return serviceOf(error?.path);
}

function sentence(error) {
  const code = error?.extensions?.code ?? null;
  const message = typeof error?.message === 'string' ? error.message.trim() : '';
  switch (code) {
    case UNAVAILABLE:
      return unavailableMessage(failingService(error));
    case 'INTERNAL_SERVER_ERROR':
      return 'Something went wrong on the server. Try again; if it keeps happening, tell support.';
    case 'NOT_FOUND':
      return message || 'It does not exist (any more).';
    case 'CONFLICT':
      return message || 'That is not possible in its current state.';
    case 'UNAUTHENTICATED':
      return 'Your session has ended. Sign in again, then try once more.';
    case 'FORBIDDEN':
      return message || 'You are not allowed to do that.';
    case 'BAD_USER_INPUT':
      return humanMessage(message) || 'Some of the input is not valid.';
    default:
      // No code: a request the server could not run (a malformed query or variable), which a
      // person can't act on; the technical text stays on the error for the console.
      return 'The server could not handle this request. Try again; if it keeps happening, tell support.';
  }
}

// Validation messages written for programmers (pydantic's, the services' older ones) put into
// words for people; a message not listed here is already meant for people and shown as is.
const HUMAN_MESSAGES = [
  [/^String should have at most (\d+) characters?$/i, (m) => `This can have at most ${Number(m[1]).toLocaleString()} characters.`],
  [/^String should have at least 1 characters?$/i, () => 'This cannot be empty.'],
  [/^String should have at least (\d+) characters$/i, (m) => `This needs at least ${m[1]} characters.`],
  [/^Field required$/i, () => 'This is required.'],
  [/^Input should be greater than or equal to (\S+)$/i, (m) => `Enter ${m[1]} or more.`],
  [/^Input should be greater than (\S+)$/i, (m) => `Enter more than ${m[1]}.`],
  [/^Input should be less than or equal to (\S+)$/i, (m) => `Enter at most ${m[1]}.`],
  [/^Input should be a valid integer.*$/i, () => 'Enter a whole number.'],
  [/^Input should be a valid (decimal|number).*$/i, () => 'Enter a number, for example 12.50.'],
  [/^Decimal input should have no more than (\d+) decimal places?$/i, (m) => (m[1] === '0' ? 'Enter a whole amount, without decimals.' : `Use at most ${m[1]} decimals.`)],
  [/^Decimal input should have no more than (\d+) digits in total$/i, () => 'This amount is too large.'],
  [/^value is not a valid email address.*$/i, () => 'Enter an email address like name@example.com.'],
  [/^List should have at most (\d+) items?.*$/i, (m) => `There can be at most ${m[1]}.`],
];

// A pattern mismatch names the field's rule as a regular expression: say what is expected.
const PATTERN_MESSAGES = {
  'customer.email': 'Enter an email address like name@example.com.',
  email: 'Enter an email address like name@example.com.',
};

export function humanMessage(message, field = null) {
  const text = String(message ?? '').trim();
  if (/^String should match pattern/i.test(text)) {
    return PATTERN_MESSAGES[field] ?? 'This contains characters that are not allowed here.';
  }
  for (const [pattern, words] of HUMAN_MESSAGES) {
    const match = pattern.exec(text);
    if (match) return words(match);
  }
  return text;
}

/** Field errors from `extensions.details`, keyed by path relative to the mutation input. */
function fieldDetails(error) {
  const details = error?.extensions?.details;
  if (!Array.isArray(details)) return [];
  return details
    .filter((detail) => detail && typeof detail.message === 'string')
    .map((detail) => {
      const field = String(detail.field ?? '').replace(/^input\./, '');
      return { field, message: humanMessage(detail.message, field) };
    });
}

export function toApiError(error) {
  const apiError = new ApiError(sentence(error), {
    code: error?.extensions?.code ?? null,
    details: fieldDetails(error),
    path: error?.path ?? null,
    service: error?.extensions?.code === UNAVAILABLE ? failingService(error) : null,
  });
  apiError.technical = typeof error?.message === 'string' ? error.message : null;
  return apiError;
}

/**
 * Runs a query or mutation and returns {data, errors}, errors as ApiErrors. Partial data is
 * normal (one upstream down): callers look at `errors` for the paths they show. Throws an
 * ApiError when there is no data at all (network down, request refused, root field failed).
 */
export async function request(query, variables = {}) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/graphql-response+json, application/json',
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError('The server cannot be reached. Check your connection and try again.', {
      code: 'NETWORK',
    });
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(
      `The server sent an answer this page does not understand (HTTP ${response.status}). Try again in a moment.`,
      { code: 'BAD_RESPONSE' },
    );
  }
  const errors = Array.isArray(body?.errors) ? body.errors.map(toApiError) : [];
  // The session ended (web/session.js asks to sign in again over the page, keeping it).
  if (errors.some((error) => error.code === 'UNAUTHENTICATED')) {
    window.dispatchEvent(new Event('session-expired'));
  }
  const data = body?.data ?? null;
  if (data === null) {
    throw errors[0] ?? new ApiError('The server answered without data. Try again in a moment.');
  }
  return { data, errors };
}

/** Like request() but any error fails the whole call: for mutations and must-have reads. */
export async function requireAll(query, variables = {}) {
  const { data, errors } = await request(query, variables);
  if (errors.length > 0) throw errors[0];
  return data;
}

/** The first error on `rootField` (e.g. a root field resolved to null because of it). */
export function errorAt(errors, rootField) {
  return errors.find((error) => Array.isArray(error.path) && error.path[0] === rootField) ?? null;
}

/** Whether billing (invoices) failed anywhere in this answer. */
export function billingUnavailable(errors) {
  return errors.some((error) => error.code === UNAVAILABLE && error.service === 'billing');
}

export function orderingUnavailable(errors) {
  return errors.some((error) => error.code === UNAVAILABLE && error.service === 'ordering');
}

function newKey() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Idempotency keys for one form or button: the same content sent again (a retry after an error
 * or a timeout) reuses its key, so the services write once and answer the first result; changed
 * content is a new submission with a new key. Make one per form when it is shown.
 */
export function submissionKeys() {
  let lastContent = null;
  let key = null;
  return (variables) => {
    const content = JSON.stringify(variables);
    if (content !== lastContent) {
      lastContent = content;
      key = newKey();
    }
    return key;
  };
}

/** requireAll() for a mutation that takes `idempotencyKey`: the key comes from `keys`. */
export function requireOnce(keys, query, variables) {
  return requireAll(query, { ...variables, idempotencyKey: keys(variables) });
}
