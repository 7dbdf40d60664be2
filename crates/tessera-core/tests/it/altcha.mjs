// The reference side of the ALTCHA compatibility test (tests/it/altcha.rs): altcha-lib's
// PoW v1 (the protocol of the ALTCHA widget 1.x/2.x), loaded from an npm prefix outside the
// repository. Reads one JSON request on stdin, writes one JSON answer on stdout.
//
//   node altcha.mjs <npm prefix> <<< '{"action": "...", ...}'
//
// create-and-solve {hmacKey, maxnumber}: altcha-lib makes a challenge (expiring in ten
//   minutes) and solves it; answers {challenge, payload} with payload as the widget posts it.
// solve-and-verify {hmacKey, challenge}: altcha-lib solves a challenge made elsewhere and
//   verifies the solution, and a tampered one; answers {number, payload, verified, tamperedVerified}.

import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.argv[2], 'package.json'));
const altcha = require('altcha-lib/v1');

// What the widget posts in its `altcha` field.
const widgetPayload = (challenge, solution) =>
  btoa(
    JSON.stringify({
      algorithm: challenge.algorithm,
      challenge: challenge.challenge,
      number: solution.number,
      salt: challenge.salt,
      signature: challenge.signature,
      took: solution.took,
    }),
  );

const solve = async (c) => {
  const solution = await altcha.solveChallenge(c.challenge, c.salt, c.algorithm, c.maxnumber).promise;
  if (!solution) throw new Error('altcha-lib found no solution');
  return solution;
};

let text = '';
for await (const chunk of process.stdin) text += chunk;
const request = JSON.parse(text);

let answer;
if (request.action === 'create-and-solve') {
  const challenge = await altcha.createChallenge({
    hmacKey: request.hmacKey,
    maxnumber: request.maxnumber,
    expires: new Date(Date.now() + 10 * 60 * 1000),
  });
  answer = { challenge, payload: widgetPayload(challenge, await solve(challenge)) };
} else if (request.action === 'solve-and-verify') {
  const challenge = request.challenge;
  const solution = await solve(challenge);
  const payload = widgetPayload(challenge, solution);
  const tampered = widgetPayload(challenge, { ...solution, number: solution.number + 1 });
  answer = {
    number: solution.number,
    payload,
    verified: await altcha.verifySolution(payload, request.hmacKey),
    tamperedVerified: await altcha.verifySolution(tampered, request.hmacKey),
  };
} else {
  throw new Error(`unknown action ${request.action}`);
}
process.stdout.write(JSON.stringify(answer));
