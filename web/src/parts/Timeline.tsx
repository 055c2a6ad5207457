import { useCallback, useEffect, useState } from 'react';
import { api, messageOf, withQuery } from '../api';
import { formatDateTime, titleCase } from '../format';
import { useSession } from '../session';
import type { Activity, Page } from '../types';
import { Button, Empty, ErrorNote, Spinner } from '../ui';

/** A record's whole history, newest first: events, stage changes, handoff steps, notes. */
export function Timeline({ path, refreshKey }: { path: string; refreshKey: number }) {
  const [items, setItems] = useState<Activity[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(
    async (from: string | null) => {
      setLoading(true);
      try {
        const page = await api<Page<Activity>>(withQuery(path, { cursor: from, limit: 50 }));
        setItems((xs) => (from ? [...xs, ...page.items] : page.items));
        setCursor(page.nextCursor);
        setError(null);
      } catch (e) {
        setError(messageOf(e));
      } finally {
        setLoading(false);
      }
    },
    [path],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: refreshKey reloads from the top
  useEffect(() => {
    void load(null);
  }, [load, refreshKey]);
  if (error) return <ErrorNote message={error} retry={() => void load(null)} />;
  if (loading && items.length === 0) return <Spinner label="Loading the timeline" />;
  if (items.length === 0) return <Empty title="Nothing has happened yet" />;
  return (
    <>
      <ol className="timeline">
        {items.map((a) => (
          <Entry key={a.id} a={a} />
        ))}
      </ol>
      {cursor ? (
        <Button kind="ghost" busy={loading} onClick={() => void load(cursor)}>
          Show older
        </Button>
      ) : null}
    </>
  );
}

function Entry({ a }: { a: Activity }) {
  const { userName, stageName, agreement } = useSession();
  const d = a.data as Record<string, string | null | undefined>;
  const who = a.actorId ? userName(a.actorId) : a.actorType === 'system' ? 'Tandem' : 'Someone';
  const reason = (kind: 'reject' | 'handBack' | 'disqualify', code: string | null | undefined) =>
    agreement.document.reasons[kind].find((r) => r.code === code)?.label ?? code ?? '';
  let text: string;
  let cls = '';
  switch (a.kind) {
    case 'lead.created':
      text = `${who} created the lead in ${stageName(d.stage ?? '')}${d.source ? ` (source: ${d.source})` : ''}`;
      break;
    case 'lead.stage_changed':
      cls = 't-stage';
      text = `${who} moved it from ${stageName(d.from ?? '')} to ${stageName(d.to ?? '')}${d.reason ? ` — ${d.reason}` : ''}`;
      break;
    case 'handoff.created':
    case 'handoff.reassigned_to':
      cls = 't-handoff';
      text = `${a.kind === 'handoff.created' ? 'Handed off' : 'Reassigned'} to ${d.assigneeId ? userName(d.assigneeId) : 'the unassigned queue'}${d.explanation ? ` (${d.explanation})` : ''}`;
      break;
    case 'handoff.assigned':
      cls = 't-handoff';
      text = `${who} assigned it to ${userName(d.assigneeId)}`;
      break;
    case 'handoff.accepted':
      cls = 't-handoff';
      text = `${who} accepted the handoff`;
      break;
    case 'handoff.rejected':
      cls = 't-handoff';
      text = `${who} rejected it: ${reason('reject', d.reason)}`;
      break;
    case 'lead.handed_back':
      cls = 't-handoff';
      text = `${who} handed it back: ${d.reasonLabel ?? reason('handBack', d.reason)}`;
      break;
    case 'note':
      text = `${who} wrote a note`;
      break;
    default:
      if (a.kind.startsWith('event.')) {
        cls = 't-event';
        text = eventText(a.kind.slice(6), a.data);
      } else {
        cls = a.kind.startsWith('handoff.') ? 't-handoff' : '';
        text = `${titleCase(a.kind)}${a.actorId ? ` by ${who}` : ''}`;
      }
  }
  const note = d.note ?? (a.kind === 'note' ? d.body : null);
  return (
    <li className={cls}>
      <div>{text}</div>
      {note ? <div className="muted">“{note}”</div> : null}
      <div className="when">{formatDateTime(a.at)}</div>
    </li>
  );
}

/** A tracked event in words: "Viewed /pricing", "Demo Requested", "Identified as ada@example.org". */
function eventText(type: string, data: Record<string, unknown>): string {
  const props = (data.properties ?? {}) as Record<string, unknown>;
  const campaign = (data.campaign ?? null) as { name?: string } | null;
  const from = campaign?.name ? ` (campaign ${campaign.name})` : '';
  const name = typeof data.name === 'string' && data.name !== 'Page' ? data.name : null;
  switch (type) {
    case 'page':
    case 'screen':
      return `Viewed ${name ?? (typeof props.path === 'string' ? props.path : typeof props.url === 'string' ? props.url : 'a page')}${from}`;
    case 'track':
      return `${name ?? 'An event'}${from}`;
    case 'identify':
      return 'Identified on the website';
    case 'group':
      return 'Linked to a company on the website';
    default:
      return titleCase(type);
  }
}
