// The text messages the server under test sent, as the SMS sink stored them: one JSON object
// `{to, text, content_type}` per file (`000001.json`, …, in the order of arrival) in E2E_SMSDIR
// (see ../python/sms_sink.py).

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const timeoutMs = Number(process.env.E2E_TIMEOUT_MS || 30_000);

/** The directory the SMS sink writes to (run.sh sets E2E_SMSDIR). */
export function smsdir() {
  const dir = process.env.E2E_SMSDIR;
  if (!dir) {
    throw new Error(
      'E2E_SMSDIR is not set: the server must send its text messages to an SMS sink that stores them there. ' +
        'Run tests/e2e/run.sh, or see tests/e2e/README.md.',
    );
  }
  return dir;
}

async function files() {
  const names = await readdir(smsdir()).catch((error) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return names.filter((name) => /^\d+\.json$/.test(name)).sort();
}

/** The newest stored message's file name ('' when there is none): a mark for `after`. */
export async function newestSmsFile() {
  const all = await files();
  return all[all.length - 1] ?? '';
}

/** Waits for a message to `to` (E.164) stored after the file `after`, and returns the newest. */
export async function waitForSms(to, { after = '', timeoutMs: wait = timeoutMs } = {}) {
  const deadline = Date.now() + wait;
  for (;;) {
    const found = [];
    for (const file of (await files()).filter((name) => name > after)) {
      const message = JSON.parse(await readFile(path.join(smsdir(), file), 'utf8'));
      if (message.to === to) found.push({ file, ...message });
    }
    if (found.length > 0) return found[found.length - 1];
    if (Date.now() > deadline) throw new Error(`no text message to ${to} arrived in ${smsdir()} within ${wait} ms`);
    await sleep(100);
  }
}

/** The one-time code of a message: exactly one group of six digits. */
export function codeInSms(message) {
  const codes = [...message.text.matchAll(/\b(\d{6})\b/g)].map((m) => m[1]);
  if (codes.length !== 1) throw new Error(`expected one 6-digit code in ${message.file}: ${message.text}`);
  return codes[0];
}
