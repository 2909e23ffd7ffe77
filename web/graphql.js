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
      return message || 'Some of the input is not valid.';
    default:
      return message ? `The request was refused: ${message}` : 'The request was refused.';
  }
}

/** Field errors from `extensions.details`, keyed by path relative to the mutation input. */
function fieldDetails(error) {
  const details = error?.extensions?.details;
  if (!Array.isArray(details)) return [];
  return details
    .filter((detail) => detail && typeof detail.message === 'string')
    .map((detail) => ({
      field: String(detail.field ?? '').replace(/^input\./, ''),
      message: detail.message,
    }));
}

export function toApiError(error) {
  return new ApiError(sentence(error), {
    code: error?.extensions?.code ?? null,
    details: fieldDetails(error),
    path: error?.path ?? null,
    service: error?.extensions?.code === UNAVAILABLE ? failingService(error) : null,
  });
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
