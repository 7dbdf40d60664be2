// The mails the server under test sent, as the SMTP sink stored them: one RFC 5322 message per
// file (`000001.eml`, …, in the order of arrival) in E2E_MAILDIR, each with the envelope's
// `Delivered-To` recipients on top (see ../python/smtp_sink.py).
//
// Node has no MIME parser, so this is a small one. It handles what RFC 2045–2047 allow a mail
// with text parts to use: nested multiparts, the transfer encodings 7bit, 8bit, binary,
// quoted-printable and base64, a charset per part, and encoded words in headers. It does not
// handle RFC 2231 parameter continuations or message/rfc822 parts, which a sign-up mail does
// not need.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The longest wait for a mail: E2E_TIMEOUT_MS, as everywhere in the suite. */
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS || 30_000);

/** The directory the SMTP sink writes to (run.sh sets E2E_MAILDIR). */
export function maildir() {
  const dir = process.env.E2E_MAILDIR;
  if (!dir) {
    throw new Error(
      'E2E_MAILDIR is not set: the server must send its mail to an SMTP sink that stores it there. ' +
        'Run tests/e2e/run.sh, or see tests/e2e/README.md.',
    );
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------
// MIME

/** Splits a message (a string of bytes, latin1) into unfolded headers and the body. */
function splitEntity(raw) {
  const match = /\r?\n\r?\n/.exec(raw);
  const head = match ? raw.slice(0, match.index) : raw;
  const body = match ? raw.slice(match.index + match[0].length) : '';
  const headers = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      headers[headers.length - 1].value += line; // RFC 5322 §2.2.3: unfolding keeps the WSP
    } else {
      const colon = line.indexOf(':');
      if (colon > 0) headers.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
    }
  }
  return { headers, body };
}

/** Bytes (a latin1 string) in a charset, as text. */
function decodeCharset(bytes, charset = 'us-ascii') {
  const buffer = Buffer.from(bytes, 'latin1');
  let decoder;
  try {
    decoder = new TextDecoder(charset.toLowerCase(), { fatal: true });
  } catch {
    throw new Error(`a mail uses the charset "${charset}", which this parser does not know`);
  }
  return decoder.decode(buffer);
}

/** RFC 2047 encoded words (`=?utf-8?Q?…?=`, `=?utf-8?B?…?=`) in a header value. */
export function decodeHeader(value) {
  const word = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;
  // Whitespace between two adjacent encoded words is not part of the text (§6.2).
  const joined = value.replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?)/g, '$1');
  return joined.replace(word, (_, charset, encoding, text) => {
    const bytes =
      encoding.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('latin1')
        : text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (__, hex) => String.fromCharCode(parseInt(hex, 16)));
    return decodeCharset(bytes, charset.split('*')[0]);
  });
}

/** `type/subtype; name=value; name="quoted value"` → { type, params }. */
function parseContentType(value) {
  if (!value) return { type: 'text/plain', params: { charset: 'us-ascii' } }; // RFC 2045 §5.2
  const [type, ...rest] = splitOutsideQuotes(value, ';');
  const params = {};
  for (const param of rest) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    let paramValue = param.slice(eq + 1).trim();
    if (paramValue.startsWith('"') && paramValue.endsWith('"') && paramValue.length >= 2) {
      paramValue = paramValue.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    params[param.slice(0, eq).trim().toLowerCase()] = paramValue;
  }
  return { type: type.trim().toLowerCase(), params };
}

function splitOutsideQuotes(value, separator) {
  const parts = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i += 1) {
    const c = value[i];
    if (c === '\\' && quoted && i + 1 < value.length) {
      current += c + value[i + 1];
      i += 1;
    } else if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (c === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function decodeQuotedPrintable(body) {
  return body
    .split(/\r?\n/)
    .map((line) => line.replace(/[ \t]+$/, '')) // RFC 2045 §6.7 (3): trailing whitespace is padding
    .join('\r\n')
    .replace(/=\r\n/g, '') // soft line breaks
    .replace(/=([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

function decodeTransfer(body, encoding) {
  switch ((encoding || '7bit').toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1');
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    case '7bit':
    case '8bit':
    case 'binary':
      return body;
    default:
      throw new Error(`a mail part uses the transfer encoding "${encoding}", which RFC 2045 does not define`);
  }
}

/** The leaf parts of an entity, depth first, each as { type, params, headers, text|bytes }. */
function leafParts(raw) {
  const { headers, body } = splitEntity(raw);
  const header = (name) => headers.find((h) => h.name === name)?.value;
  const contentType = parseContentType(header('content-type'));
  if (contentType.type.startsWith('multipart/')) {
    const boundary = contentType.params.boundary;
    if (!boundary) throw new Error(`a ${contentType.type} part has no boundary`);
    const escaped = boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // RFC 2046 §5.1.1: the CRLF before "--boundary" belongs to the delimiter.
    const chunks = `\r\n${body}`.split(new RegExp(`\\r?\\n--${escaped}`));
    const parts = [];
    for (const chunk of chunks.slice(1)) {
      if (chunk.startsWith('--')) break; // the close delimiter; the epilogue follows
      const newline = chunk.indexOf('\n');
      parts.push(...leafParts(newline < 0 ? '' : chunk.slice(newline + 1)));
    }
    return parts;
  }
  const bytes = decodeTransfer(body, header('content-transfer-encoding'));
  const part = { type: contentType.type, params: contentType.params, headers };
  if (contentType.type.startsWith('text/')) part.text = decodeCharset(bytes, contentType.params.charset || 'us-ascii');
  else part.bytes = Buffer.from(bytes, 'latin1');
  return [part];
}

/** The addr-specs of an address-list header (`"Name" <a@b>, c@d`), in lower case. */
function addresses(value) {
  if (!value) return [];
  return splitOutsideQuotes(value, ',')
    .map((entry) => {
      const angle = /<([^>]*)>/.exec(entry);
      return (angle ? angle[1] : entry.replace(/\([^)]*\)/g, '')).trim().toLowerCase();
    })
    .filter(Boolean);
}

/**
 * Parses one stored message.
 * @returns {{ file: string, header: (name: string) => string | undefined, headerValues: (name: string) => string[],
 *   contentType: string, deliveredTo: string[], to: string[], subject: string, text: string | undefined,
 *   html: string | undefined, parts: object[] }}
 */
export function parseMail(raw, file = '') {
  const { headers } = splitEntity(raw);
  const headerValues = (name) => headers.filter((h) => h.name === name.toLowerCase()).map((h) => h.value);
  const header = (name) => headerValues(name)[0];
  const parts = leafParts(raw);
  return {
    file,
    header: (name) => {
      const value = header(name);
      return value === undefined ? undefined : decodeHeader(value);
    },
    headerValues,
    contentType: parseContentType(header('content-type')).type,
    deliveredTo: headerValues('delivered-to').map((v) => v.trim().toLowerCase()),
    to: addresses(header('to')),
    subject: decodeHeader(header('subject') ?? ''),
    text: parts.find((p) => p.type === 'text/plain')?.text,
    html: parts.find((p) => p.type === 'text/html')?.text,
    parts,
  };
}

// ---------------------------------------------------------------------------------------------
// The mailbox

/** The stored mails' file names, oldest first. */
async function mailFiles() {
  const names = await readdir(maildir()).catch((error) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return names.filter((name) => /^\d+\.eml$/.test(name)).sort();
}

/** Every stored mail to `address` (an envelope recipient, ignoring case), oldest first. */
export async function mailsTo(address) {
  const wanted = address.toLowerCase();
  const found = [];
  for (const file of await mailFiles()) {
    const raw = (await readFile(path.join(maildir(), file))).toString('latin1');
    const mail = parseMail(raw, file);
    if (mail.deliveredTo.includes(wanted)) found.push(mail);
  }
  return found;
}

/**
 * Waits for a mail to `address` that arrived after the mail `after` (a file name, or none), and
 * returns the newest such mail.
 */
export async function waitForMail(address, { after = '', timeoutMs: wait = timeoutMs } = {}) {
  const deadline = Date.now() + wait;
  for (;;) {
    const fresh = (await mailsTo(address)).filter((mail) => mail.file > after);
    if (fresh.length > 0) return fresh[fresh.length - 1];
    if (Date.now() > deadline) {
      const all = await mailFiles();
      throw new Error(
        `no mail to ${address}${after ? ` after ${after}` : ''} arrived in ${maildir()} within ${wait} ms ` +
          `(${all.length} mail(s) there in all)`,
      );
    }
    await sleep(100);
  }
}

/** The newest stored mail's file name ('' when there is none): a mark for `waitForMail`'s `after`. */
export async function newestMailFile() {
  const files = await mailFiles();
  return files[files.length - 1] ?? '';
}

/**
 * The one-time code in a mail's text part: six digits alone on a line (a space between two
 * groups of three is allowed). Exactly one such line must be there.
 */
export function codeIn(mail) {
  if (mail.text === undefined) throw new Error(`the mail ${mail.file} has no text/plain part`);
  const codes = [...mail.text.matchAll(/^[ \t]*(\d{3}) ?(\d{3})[ \t]*$/gm)].map((m) => m[1] + m[2]);
  if (codes.length !== 1) {
    throw new Error(`expected exactly one 6-digit code in the text part of ${mail.file}, found ${codes.length}:\n${mail.text}`);
  }
  return codes[0];
}
