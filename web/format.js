// Formatting of money, dates and statuses for people. Money arrives as a decimal string
// ("1234.50", "1250"); Intl.NumberFormat formats such strings exactly (no float rounding).
// Amounts are shown with their currency's own ISO 4217 minor units (JPY none, EUR two, BHD
// three) and never rounded: an amount with more decimals than its currency has keeps them, so
// the screen shows what the API holds (¥12.50 × 3 = ¥37.50, never ¥13 × 3 = ¥38).

const moneyFormats = new Map();
const digitsByCurrency = new Map();

/** The currency's ISO 4217 minor units (2 for an unknown code). */
export function currencyDigits(currency) {
  if (!digitsByCurrency.has(currency)) {
    let digits = 2;
    try {
      digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
    } catch {
      // An unknown code: two decimals, the common case.
    }
    digitsByCurrency.set(currency, digits);
  }
  return digitsByCurrency.get(currency);
}

function moneyFormat(currency, digits) {
  const key = `${currency}:${digits}`;
  if (!moneyFormats.has(key)) {
    moneyFormats.set(key, new Intl.NumberFormat(undefined, {
      style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits,
    }));
  }
  return moneyFormats.get(key);
}

/** Decimals an amount really carries: "12.50" has 1 significant, "12.00" none. */
function significantDecimals(text) {
  const fraction = /\.(\d*?)0*$/.exec(text);
  return fraction ? fraction[1].length : 0;
}

export function formatMoney(amount, currency) {
  if (amount === null || amount === undefined || amount === '') return '—';
  const text = String(amount).trim();
  const own = currencyDigits(currency);
  // More decimals than the currency has: show all the amount's own digits, never round.
  const given = text.includes('.') ? text.split('.')[1].length : 0;
  const digits = significantDecimals(text) > own ? given : own;
  try {
    return moneyFormat(currency, digits).format(text);
  } catch {
    // An unknown currency code: still show the amount and its currency, unformatted.
    return `${text} ${currency}`;
  }
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** The date alone, for lists (the time goes in the element's title). */
export function formatDate(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateFormat.format(date);
}

export function formatDateTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return dateTimeFormat.format(date);
}

/** quantity × unit price in minor units (cents, or yen), exact; null when not computable. */
export function lineAmountMinor(quantity, unitPrice, digits) {
  const minor = priceToMinor(unitPrice, digits);
  if (minor === null || !Number.isInteger(quantity)) return null;
  return BigInt(quantity) * minor;
}

/** "12.50" → 1250n with 2 digits; null if it is not a price with at most `digits` decimals. */
export function priceToMinor(price, digits) {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(String(price).trim());
  if (!match) return null;
  const fraction = match[2] ?? '';
  if (fraction.length > digits) return null;
  return BigInt(match[1]) * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, '0') || '0');
}

export function minorToDecimal(minor, digits) {
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  const scale = 10n ** BigInt(digits);
  const whole = abs / scale;
  const fraction = digits > 0 ? `.${String(abs % scale).padStart(digits, '0')}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
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
  ORDER_DELETED: 'Order deleted',
};

export function statusLabel(status) {
  return ORDER_STATUS_LABELS[status] ?? INVOICE_STATUS_LABELS[status] ?? String(status);
}

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}
