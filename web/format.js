// Formatting of money, dates and statuses for people. Money arrives as a decimal string with
// two places ("1234.50"); Intl.NumberFormat formats such strings exactly (no float rounding).

const moneyFormats = new Map();

function moneyFormat(currency) {
  if (!moneyFormats.has(currency)) {
    moneyFormats.set(currency, new Intl.NumberFormat(undefined, { style: 'currency', currency }));
  }
  return moneyFormats.get(currency);
}

export function formatMoney(amount, currency) {
  if (amount === null || amount === undefined || amount === '') return '—';
  try {
    return moneyFormat(currency).format(amount);
  } catch {
    // An unknown currency code: still show the amount and its currency, unformatted.
    return `${amount} ${currency}`;
  }
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDateTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return dateTimeFormat.format(date);
}

/** Sum of quantity × unit price in cents, exact for the sizes the API accepts. */
export function lineAmountCents(quantity, unitPrice) {
  const cents = priceToCents(unitPrice);
  if (cents === null || !Number.isInteger(quantity)) return null;
  return BigInt(quantity) * cents;
}

export function priceToCents(price) {
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(String(price).trim());
  if (!match) return null;
  return BigInt(match[1]) * 100n + BigInt((match[2] ?? '').padEnd(2, '0'));
}

export function centsToDecimal(cents) {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  const whole = abs / 100n;
  const fraction = String(abs % 100n).padStart(2, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

export const ORDER_STATUS_LABELS = {
  DRAFT: 'Draft',
  CONFIRMED: 'Confirmed',
  DELETED: 'Deleted',
};

export const INVOICE_STATUS_LABELS = {
  PENDING_APPROVAL: 'Pending approval',
  APPROVED: 'Approved',
  VOID: 'Void',
};

export function statusLabel(status) {
  return ORDER_STATUS_LABELS[status] ?? INVOICE_STATUS_LABELS[status] ?? String(status);
}

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}
