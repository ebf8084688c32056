import type { DeliveryView } from '../delivery';
import type { SendInput, Sent } from './declare';
import { EXIT } from './errors';
import type { CliIo } from './io';

interface Outcome {
  gateway: string;
  input: SendInput;
  sent: Sent;
  url: string | undefined;
  view: DeliveryView<string> | undefined;
  json: boolean | undefined;
}

/** 0 when the gateway would stop: its success body came back, or (no --url) someone heard it. */
function exitCodeOf({ view, sent }: Outcome): number {
  if (view) return view.acknowledged ? EXIT.OK : EXIT.NOT_ACKNOWLEDGED;
  return sent.unheard ? EXIT.NOT_ACKNOWLEDGED : EXIT.OK;
}

function asJson(o: Outcome, exitCode: number): string {
  const { delivery, notes = [] } = o.sent;
  const { view } = o;
  return JSON.stringify({
    gateway: o.gateway,
    event: o.input.event,
    order: o.input.order,
    description: delivery.description,
    request: o.url ? { url: o.url, headers: delivery.headers, body: delivery.body } : null,
    response: view ? { status: view.status, contentType: view.contentType, body: view.body } : null,
    acknowledged: view ? view.acknowledged : null,
    simulator: null,
    ...Object.assign({}, ...notes.map((n) => n.json)),
    exitCode,
  });
}

function asText(o: Outcome): string {
  const { delivery, notes = [], unheard } = o.sent;
  const { view } = o;
  const lines = [delivery.description, ...notes.map((n) => n.text)];
  if (view) {
    const ack = delivery.successAck;
    lines.push(`→ POST ${o.url}`);
    lines.push(`← ${view.status} ${view.contentType ?? ''}`.trimEnd());
    lines.push(`  ${view.body.length > 500 ? `${view.body.slice(0, 500)}…` : view.body}`);
    lines.push(
      view.acknowledged
        ? `acknowledged: yes, the gateway's success answer (${ack.status} ${ack.body}); it stops retrying`
        : `acknowledged: no, the gateway expects ${ack.status} ${ack.body}; it would deliver again`,
    );
  } else if (unheard) {
    lines.push(unheard);
  }
  return lines.join('\n');
}

/** Prints what the gateway saw (text, or one JSON object) and returns the exit code. */
export function printSent(io: CliIo, outcome: Outcome): number {
  const code = exitCodeOf(outcome);
  io.stdout(`${outcome.json ? asJson(outcome, code) : asText(outcome)}\n`);
  return code;
}
