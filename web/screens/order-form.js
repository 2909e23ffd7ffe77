// New and edit draft order: customer, currency and editable lines. Validates in the browser
// with messages in words, and maps the server's field errors (extensions.details) onto the
// same fields, so a person sees every problem next to the input that caused it.

import { h, uniqueId } from '../dom.js';
import { errorPanel, notice, pageHeader } from '../components.js';
import { currencyDigits, formatMoney, lineAmountMinor, minorToDecimal, priceToMinor } from '../format.js';
import { setFlash } from '../flash.js';
import { errorAt, request, requireOnce, submissionKeys } from '../graphql.js';
import { setLeaveGuard } from '../leave-guard.js';

const ORDER_QUERY = `
query OrderForEdit($number: Int!) {
  order(number: $number) {
    number status currency
    customer { name email }
    lines { sku description quantity unitPrice }
  }
}`;

const CREATE_MUTATION = `
mutation CreateOrder($input: OrderInput!, $idempotencyKey: String) { createOrder(input: $input, idempotencyKey: $idempotencyKey) { number } }`;

const UPDATE_MUTATION = `
mutation UpdateOrder($number: Int!, $input: OrderInput!, $idempotencyKey: String) { updateOrder(number: $number, input: $input, idempotencyKey: $idempotencyKey) { number } }`;

export const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK', 'JPY', 'CAD', 'AUD'];

const LIMITS = {
  name: 200,
  email: 254,
  sku: 64,
  description: 500,
  quantity: 100_000,
  priceUnits: 1_000_000_000n,
  lines: 100,
};

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const LINE_FIELDS = ['sku', 'description', 'quantity', 'unitPrice'];
const LINE_LABELS = { sku: 'SKU', description: 'Description', quantity: 'Quantity', unitPrice: 'Unit price' };

let currencyNames = null;
function currencyName(code) {
  try {
    currencyNames ??= new Intl.DisplayNames(undefined, { type: 'currency' });
    return currencyNames.of(code) ?? code;
  } catch {
    return code;
  }
}

/** A labelled input with its own error message slot, wired for screen readers. */
function makeField(label, control, { hint = null, className = '' } = {}) {
  const id = uniqueId('field');
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  control.id = id;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describedBy);
  const error = h('p', { class: 'field__error', id: errorId, hidden: true });
  const wrapper = h(
    'div',
    { class: `field ${className}`.trim() },
    h('label', { for: id, class: 'field__label' }, label),
    hint ? h('p', { class: 'field__hint', id: hintId }, hint) : null,
    control,
    error,
  );
  return {
    wrapper,
    control,
    label,
    setError(message) {
      error.textContent = message;
      error.hidden = false;
      control.setAttribute('aria-invalid', 'true');
      wrapper.classList.add('field--invalid');
    },
    clearError() {
      error.textContent = '';
      error.hidden = true;
      control.removeAttribute('aria-invalid');
      wrapper.classList.remove('field--invalid');
    },
  };
}

function textInput(name, value, props = {}) {
  return h('input', { type: 'text', name, value: value ?? '', autocomplete: 'off', ...props });
}

/** Normalises a price typed by a person: trims, accepts a decimal comma. */
function normalisePrice(text) {
  const trimmed = text.trim();
  return /^\d+,\d+$/.test(trimmed) ? trimmed.replace(',', '.') : trimmed;
}

const DECIMALS_IN_WORDS = ['no decimals', 'at most one decimal', 'at most two decimals', 'at most three decimals', 'at most four decimals'];

/** What a valid price looks like in this currency, for the messages. */
function priceExample(digits) {
  return digits === 0 ? '1250' : `12.${'5'.padEnd(digits, '0')}`;
}

function priceProblem(text, currency) {
  const digits = currencyDigits(currency);
  const example = priceExample(digits);
  if (text === '') return `Enter a unit price, for example ${example}.`;
  const minor = priceToMinor(text, digits);
  if (minor === null) {
    if (/^\d+\.\d+$/.test(text)) {
      return digits === 0
        ? `${currency} has no decimals: enter a whole amount, for example ${example}.`
        : `${currency} has ${DECIMALS_IN_WORDS[digits] ?? `${digits} decimals`}: enter a price like ${example}.`;
    }
    return `Enter a price as a number with ${DECIMALS_IN_WORDS[digits] ?? `at most ${digits} decimals`}, for example ${example}.`;
  }
  if (minor > LIMITS.priceUnits * 10n ** BigInt(digits)) return 'The unit price can be at most 1,000,000,000.';
  return null;
}

function validateCustomer(name, email) {
  const problems = [];
  if (!name) problems.push(['customer.name', "Enter the customer's name."]);
  else if (name.length > LIMITS.name) problems.push(['customer.name', `The name can have at most ${LIMITS.name} characters.`]);
  if (!email) problems.push(['customer.email', "Enter the customer's email address."]);
  else if (email.length > LIMITS.email) problems.push(['customer.email', `An email address can have at most ${LIMITS.email} characters.`]);
  else if (!EMAIL.test(email)) problems.push(['customer.email', 'Enter an email address like name@example.com.']);
  return problems;
}

function validateLine(line, currency) {
  const problems = [];
  if (!line.sku) problems.push(['sku', 'Enter a SKU (the article code).']);
  else if (line.sku.length > LIMITS.sku) problems.push(['sku', `A SKU can have at most ${LIMITS.sku} characters.`]);
  if (line.description.length > LIMITS.description) {
    problems.push(['description', `A description can have at most ${LIMITS.description} characters.`]);
  }
  if (line.quantityText === '') problems.push(['quantity', 'Enter a quantity.']);
  else if (!/^\d+$/.test(line.quantityText) || Number(line.quantityText) < 1) {
    problems.push(['quantity', 'Enter a whole number of at least 1.']);
  } else if (Number(line.quantityText) > LIMITS.quantity) {
    problems.push(['quantity', 'The quantity can be at most 100,000.']);
  }
  const price = priceProblem(line.unitPrice, currency);
  if (price) problems.push(['unitPrice', price]);
  return problems;
}

function buildOrderForm(view, order) {
  const isEdit = order !== null;
  const lineRows = [];

  const summary = h('div', { class: 'error-summary', role: 'alert', tabindex: '-1', hidden: true });
  const formError = h('div', { class: 'form-error' });
  const name = makeField('Customer name', textInput('customer-name', order?.customer.name, { autocomplete: 'name' }));
  const email = makeField('Customer email', textInput('customer-email', order?.customer.email, { type: 'email', autocomplete: 'email', inputmode: 'email' }));

  const currentCurrency = order?.currency ?? 'EUR';
  const codes = CURRENCIES.includes(currentCurrency) ? CURRENCIES : [currentCurrency, ...CURRENCIES];
  const currencySelect = h(
    'select',
    { name: 'currency' },
    ...codes.map((code) => h('option', { value: code, selected: code === currentCurrency }, `${code} — ${currencyName(code)}`)),
  );
  const currency = makeField('Currency', currencySelect, { className: 'field--currency' });

  const linesList = h('ol', { class: 'lines' });
  const linesEmpty = h('p', { class: 'lines__empty muted' },
    'No lines yet. A draft can be saved without lines, but it needs at least one line to be confirmed.');
  const linesError = h('p', { class: 'field__error', hidden: true });
  const total = h('output', { class: 'order-total__value', 'aria-live': 'polite' });
  const addButton = h('button', { type: 'button', class: 'button', onclick: () => addLine(null, true) }, '+ Add line');
  const submit = h('button', { type: 'submit', class: 'button button--primary' }, isEdit ? 'Save changes' : 'Create draft order');
  const cancelHref = isEdit ? `/orders/${order.number}` : '/orders';

  function refresh() {
    lineRows.forEach((row, index) => {
      row.title.textContent = `Line ${index + 1}`;
      row.remove.setAttribute('aria-label', `Remove line ${index + 1}`);
    });
    linesEmpty.hidden = lineRows.length > 0;
    addButton.disabled = lineRows.length >= LIMITS.lines;
    let sum = 0n;
    let complete = true;
    let anyPriced = false;
    const code = currencySelect.value;
    const digits = currencyDigits(code);
    for (const row of lineRows) {
      const quantityText = row.fields.quantity.control.value.trim();
      const quantity = /^\d+$/.test(quantityText) ? Number(quantityText) : NaN;
      const minor = lineAmountMinor(quantity, normalisePrice(row.fields.unitPrice.control.value), digits);
      row.amount.textContent = minor === null ? '—' : formatMoney(minorToDecimal(minor, digits), code);
      if (minor === null) complete = false;
      else {
        sum += minor;
        anyPriced = true;
      }
    }
    // "(so far)" only when some lines count and others still lack a valid quantity or price.
    total.textContent = formatMoney(minorToDecimal(sum, digits), code) + (complete || !anyPriced ? '' : ' (so far)');
  }

  function addLine(line, focus) {
    const fields = {
      sku: makeField('SKU', textInput('sku', line?.sku, { autocapitalize: 'characters' }), { className: 'field--sku' }),
      description: makeField('Description', textInput('description', line?.description), { className: 'field--description' }),
      quantity: makeField('Quantity', textInput('quantity', line ? String(line.quantity) : '1', { inputmode: 'numeric' }), { className: 'field--quantity' }),
      unitPrice: makeField('Unit price', textInput('unit-price', line?.unitPrice, { inputmode: 'decimal' }), { className: 'field--price' }),
    };
    const row = {
      fields,
      title: h('span', { class: 'line__title' }),
      amount: h('span', { class: 'line__amount-value' }),
    };
    row.remove = h('button', {
      type: 'button',
      class: 'button button--quiet button--small',
      onclick: () => {
        const index = lineRows.indexOf(row);
        lineRows.splice(index, 1);
        row.element.remove();
        refresh();
        (lineRows[index]?.fields.sku.control ?? addButton).focus();
      },
    }, 'Remove');
    row.element = h(
      'li',
      { class: 'line' },
      h('div', { class: 'line__head' }, row.title, row.remove),
      h('div', { class: 'line__fields' },
        ...LINE_FIELDS.map((key) => fields[key].wrapper),
        h('div', { class: 'line__amount' }, h('span', { class: 'field__label' }, 'Amount'), row.amount)),
    );
    lineRows.push(row);
    linesList.append(row.element);
    refresh();
    if (focus) fields.sku.control.focus();
  }

  function allFields() {
    return [name, email, currency, ...lineRows.flatMap((row) => LINE_FIELDS.map((key) => row.fields[key]))];
  }

  function clearErrors() {
    for (const field of allFields()) field.clearError();
    linesError.hidden = true;
    summary.hidden = true;
    summary.replaceChildren();
    formError.replaceChildren();
  }

  // The summary's entry of each field in error, removed as soon as the field is put right.
  const summaryItems = new Map();

  /** problems: [{field: Field|null, text: sentence for the summary}] */
  function showProblems(intro, problems) {
    summaryItems.clear();
    const items = problems.map(({ field, text }) => {
      if (!field) return h('li', {}, text);
      const item = h('li', {}, h('a', {
        href: `#${field.control.id}`,
        onclick: (event) => {
          event.preventDefault();
          field.control.focus();
        },
      }, text));
      summaryItems.set(field, [...(summaryItems.get(field) ?? []), item]);
      return item;
    });
    summary.replaceChildren(h('h2', {}, intro), h('ul', {}, ...items));
    summary.hidden = false;
    const first = problems.find((problem) => problem.field);
    if (first) first.field.control.focus();
    else summary.focus();
  }

  function readForm() {
    // Wholly blank lines are left out: a person who added a line and never used it meant no line.
    const used = lineRows.filter((row) => LINE_FIELDS.some((key) => key !== 'quantity' && row.fields[key].control.value.trim() !== ''));
    const lines = used.map((row) => ({
      row,
      sku: row.fields.sku.control.value.trim(),
      description: row.fields.description.control.value.trim(),
      quantityText: row.fields.quantity.control.value.trim(),
      unitPrice: normalisePrice(row.fields.unitPrice.control.value),
    }));
    return {
      name: name.control.value.trim(),
      email: email.control.value.trim(),
      currency: currencySelect.value,
      lines,
    };
  }

  function fieldForPath(path, values) {
    if (path === 'customer.name') return name;
    if (path === 'customer.email') return email;
    if (path === 'currency') return currency;
    const match = /^lines\.(\d+)\.(\w+)$/.exec(path);
    if (match) {
      const line = values.lines[Number(match[1])];
      const key = match[2] === 'unit_price' ? 'unitPrice' : match[2];
      return line?.row.fields[key] ?? null;
    }
    return null;
  }

  function lineNumberOf(field) {
    const index = lineRows.findIndex((row) => LINE_FIELDS.some((key) => row.fields[key] === field));
    return index >= 0 ? index + 1 : null;
  }

  function problemFor(field, message) {
    if (field) field.setError(message);
    const lineNumber = field ? lineNumberOf(field) : null;
    const prefix = lineNumber ? `Line ${lineNumber}, ${field.label}: ` : field ? `${field.label}: ` : '';
    return { field, text: prefix + message };
  }

  /** Every problem of the form as [field, message], without showing any. */
  function findProblems(values) {
    const problems = validateCustomer(values.name, values.email).map(([path, message]) => [fieldForPath(path, values), message]);
    values.lines.forEach((line) => {
      for (const [key, message] of validateLine(line, values.currency)) problems.push([line.row.fields[key], message]);
    });
    return problems;
  }

  function validate(values) {
    const problems = findProblems(values).map(([field, message]) => problemFor(field, message));
    if (values.lines.length > LIMITS.lines) {
      linesError.textContent = `An order can have at most ${LIMITS.lines} lines.`;
      linesError.hidden = false;
      problems.push({ field: null, text: linesError.textContent });
    }
    return problems;
  }

  /**
   * A field's error goes as soon as it is put right (the summary's entry too); an error that
   * is still there changes to the current problem. A changed currency re-checks the prices.
   */
  function recheck(event) {
    const invalid = allFields().filter((field) => field.control.getAttribute('aria-invalid') === 'true');
    if (invalid.length === 0) return;
    const touched = invalid.filter((field) => field.control === event.target || (event.target === currencySelect && field.control.name === 'unit-price'));
    if (touched.length === 0) return;
    const problems = findProblems(readForm());
    for (const field of touched) {
      const still = problems.find(([candidate]) => candidate === field);
      if (still) {
        field.setError(still[1]);
        continue;
      }
      field.clearError();
      for (const item of summaryItems.get(field) ?? []) item.remove();
      summaryItems.delete(field);
    }
    if (!summary.querySelector('li')) {
      summary.hidden = true;
      summary.replaceChildren();
    }
  }

  // One key per submission, kept for a retry of the same content (a timeout must not create a
  // second order).
  const keys = submissionKeys();

  async function onSubmit(event) {
    event.preventDefault();
    clearErrors();
    const values = readForm();
    const problems = validate(values);
    if (problems.length) {
      showProblems(problems.length === 1 ? 'Please correct this problem:' : `Please correct these ${problems.length} problems:`, problems);
      return;
    }
    const input = {
      customer: { name: values.name, email: values.email },
      currency: values.currency,
      lines: values.lines.map((line) => ({
        sku: line.sku,
        description: line.description,
        quantity: Number(line.quantityText),
        unitPrice: line.unitPrice,
      })),
    };
    submit.disabled = true;
    submit.textContent = 'Saving…';
    form.setAttribute('aria-busy', 'true');
    try {
      const data = isEdit
        ? await requireOnce(keys, UPDATE_MUTATION, { number: order.number, input })
        : await requireOnce(keys, CREATE_MUTATION, { input });
      const number = isEdit ? data.updateOrder.number : data.createOrder.number;
      saved = true;
      setFlash(isEdit ? `Order ${number} was saved.` : `Order ${number} was created as a draft.`);
      view.navigate(`/orders/${number}`);
    } catch (error) {
      submit.disabled = false;
      submit.textContent = isEdit ? 'Save changes' : 'Create draft order';
      form.removeAttribute('aria-busy');
      if (error.details?.length) {
        const serverProblems = error.details.map((detail) => problemFor(fieldForPath(detail.field, values), detail.message));
        showProblems('The order was not saved. Please correct:', serverProblems);
      } else if (isEdit && error.code === 'CONFLICT') {
        // The order changed since this form was opened: say how, keep what was typed.
        formError.replaceChildren(notice('error', await conflictExplanation(order.number, error)));
        formError.scrollIntoView({ block: 'nearest' });
      } else {
        formError.replaceChildren(notice('error', error.message || 'The order was not saved.'));
        formError.scrollIntoView({ block: 'nearest' });
      }
    }
  }

  const form = h(
    'form',
    { class: 'order-form', novalidate: true, onsubmit: onSubmit, oninput: refresh, onchange: refresh, 'aria-label': isEdit ? `Edit order ${order.number}` : 'New order' },
    summary,
    formError,
    h('fieldset', { class: 'card' },
      h('legend', {}, 'Customer'),
      h('div', { class: 'grid-2' }, name.wrapper, email.wrapper),
      currency.wrapper),
    h('fieldset', { class: 'card' },
      h('legend', {}, 'Lines'),
      linesList,
      linesEmpty,
      linesError,
      h('div', { class: 'lines__footer' },
        addButton,
        h('p', { class: 'order-total' }, h('span', { class: 'order-total__label' }, 'Total '), total))),
    h('div', { class: 'form-actions' },
      submit,
      h('a', { class: 'button button--quiet', href: cancelHref }, 'Cancel')),
  );

  const initialLines = order ? order.lines : [null];
  for (const line of initialLines) addLine(line, false);
  refresh();
  form.addEventListener('input', recheck);
  form.addEventListener('change', recheck);

  // Leaving with unsaved changes asks first (in-app links, Back, closing or reloading the tab).
  let saved = false;
  const snapshot = () => JSON.stringify(Array.from(form.elements, (el) => ('value' in el ? [el.name, el.value] : null)));
  const initial = snapshot();
  setLeaveGuard(() => !saved && form.isConnected && snapshot() !== initial);
  return form;
}

const STATUS_WORDS = { DRAFT: 'a draft', CONFIRMED: 'confirmed', DELETED: 'deleted' };

/** Why saving an edited order was refused, from the order as it is now. */
async function conflictExplanation(number, error) {
  try {
    const { data } = await request(ORDER_QUERY, { number });
    const now = data.order;
    if (!now) return `Order ${number} no longer exists, so your changes could not be saved.`;
    if (now.status !== 'DRAFT') {
      return `Order ${number} was ${now.status === 'DELETED' ? 'deleted' : 'confirmed'} since you opened it, so it can't be edited any more. Your changes were not saved; they are still in the form.`;
    }
    return `${error.message} Order ${number} is ${STATUS_WORDS[now.status] ?? now.status.toLowerCase()}; your changes are still in the form.`;
  } catch {
    return error.message;
  }
}

export async function newOrderScreen(view) {
  view.title('New order');
  view.show(pageHeader('New order', { subtitle: 'Orders start as drafts; you can edit a draft until you confirm it.' }), buildOrderForm(view, null));
  document.querySelector('input[name="customer-name"]')?.focus();
}

export async function editOrderScreen(view) {
  const number = Number(view.params[0]);
  view.title(`Edit order ${number}`);
  view.loading(`Loading order ${number}…`);
  const { data, errors } = await request(ORDER_QUERY, { number });
  const failure = errorAt(errors, 'order');
  if (failure) {
    view.show(pageHeader(`Edit order ${number}`), errorPanel(failure, () => view.reload()));
    return;
  }
  const order = data.order;
  if (!order) {
    view.show(pageHeader('Order not found'), notice('info', `There is no order ${number}. `, h('a', { href: '/orders' }, 'Back to the orders')));
    return;
  }
  if (order.status !== 'DRAFT') {
    view.show(
      pageHeader(`Edit order ${number}`),
      notice('info', `Order ${number} is ${order.status.toLowerCase()}; only drafts can be edited. `, h('a', { href: `/orders/${number}` }, 'Back to the order')),
    );
    return;
  }
  view.show(pageHeader(`Edit order ${number}`, { subtitle: `Draft for ${order.customer.name}` }), buildOrderForm(view, order));
}
