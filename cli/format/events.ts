/**
 * The Events section of `describe`, as kubectl describe prints it (kubectl/pkg/describe/describe.go DescribeEvents):
 * oldest first, Type, Reason, Age (`{last} (x{count} over {first})` for a series), From, Message; `<none>` when empty.
 */
import { lastObserved, type Event } from '../../functions/api/event.js';
import { humanDuration } from './duration.js';
import { renderTable } from './table.js';

export function renderEvents(events: readonly Event[], now: number): string {
  if (events.length === 0) return '\nEvents:  <none>\n';
  const sorted = [...events].sort((a, b) => lastObserved(a).getTime() - lastObserved(b).getTime());
  const rows = sorted.map((e) => {
    const first = humanDuration(now - Date.parse(e.eventTime));
    const count = e.series?.count ?? 1;
    const age = count > 1 ? `${humanDuration(now - lastObserved(e).getTime())} (x${count} over ${first})` : first;
    return [e.type, e.reason, age, e.reportingController, e.note.trim()];
  });
  const table = renderTable(['Type', 'Reason', 'Age', 'From', 'Message'], [['----', '------', '----', '----', '-------'], ...rows]);
  return `\nEvents:\n${table
    .split('\n')
    .map((line) => (line ? `  ${line}` : line))
    .join('\n')}`;
}
