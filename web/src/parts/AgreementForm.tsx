import { useSession } from '../session';
import type { AgreementDocument, Reason, Stage } from '../types';
import { Button, Field } from '../ui';

type Update = (change: (d: AgreementDocument) => void) => void;
type ProblemAt = (path: string) => string | undefined;

const ROLES: [string, string][] = [
  ['entry', 'Where new leads start'],
  ['working', 'Working'],
  ['handoff', 'Handed to sales (waiting)'],
  ['accepted', 'Accepted by sales'],
  ['won', 'Won'],
  ['nurture', 'Nurture'],
  ['disqualified', 'Disqualified'],
];
const REASON_KINDS: [keyof AgreementDocument['reasons'], string, string][] = [
  ['reject', 'Reasons to reject a handoff', 'reject'],
  ['handBack', 'Reasons to hand a lead back', 'handBack'],
  ['disqualify', 'Reasons to disqualify', 'disqualify'],
];
const ACTIONS: [string, string][] = [
  ['remind', 'Remind the rep'],
  ['notify_lead', 'Tell the sales lead'],
  ['reassign', 'Reassign to another rep'],
];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

const keyOf = (name: string, taken: Set<string>) => {
  const base =
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 30) || 'item';
  let key = /^[a-z]/.test(base) ? base : `s_${base}`;
  for (let n = 2; taken.has(key); n++) key = `${base}_${n}`;
  return key;
};

/**
 * The parts of the agreement beyond the clock, as forms: the funnel's stages, the reasons each
 * side may give, who receives leads, what happens when a deadline passes, and what each team
 * commits to. Every change goes through the same check-and-save as the rest of the draft.
 */
export function AgreementForm({ doc, update, problemAt }: { doc: AgreementDocument; update: Update; problemAt: ProblemAt }) {
  const { users } = useSession();
  const sales = users.filter((u) => u.team === 'sales' && u.active);
  const endStages = doc.stages.filter((s) => s.role === 'nurture' || s.role === 'disqualified');
  return (
    <>
      <h3>Working days and holidays</h3>
      <fieldset className="plain row" aria-describedby="days-hint">
        <legend className="sr-only">Working days</legend>
        {DAYS.map((d, i) => (
          <label key={d} className="check">
            <input
              type="checkbox"
              checked={doc.calendar.workingDays.includes(i + 1)}
              onChange={(e) =>
                update((x) => {
                  const days = new Set(x.calendar.workingDays);
                  if (e.target.checked) days.add(i + 1);
                  else days.delete(i + 1);
                  x.calendar.workingDays = [...days].sort();
                })
              }
            />{' '}
            {d}
          </label>
        ))}
      </fieldset>
      <p className="hint" id="days-hint">
        SLA clocks run only on these days, within business hours.
      </p>
      <Field label="Holidays" hint="Dates as 2026-12-25, commas between" error={problemAt('calendar.holidays')}>
        {(p) => (
          <input
            {...p}
            value={doc.calendar.holidays.join(', ')}
            onChange={(e) =>
              update((x) => {
                x.calendar.holidays = e.target.value
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean);
              })
            }
          />
        )}
      </Field>

      <h3>The funnel</h3>
      {problemAt('stages') ? (
        <p className="error-text" role="alert">
          {problemAt('stages')}
        </p>
      ) : null}
      {doc.stages.map((s, i) => (
        <div className="rule" key={s.key}>
          <Field label={`Stage ${i + 1}`} error={problemAt(`stages[${i}].name`)}>
            {(p) => (
              <input
                {...p}
                value={s.name}
                onChange={(e) =>
                  update((x) => {
                    (x.stages[i] as Stage).name = e.target.value;
                  })
                }
              />
            )}
          </Field>
          <Field label="Owned by" error={problemAt(`stages[${i}].team`)}>
            {(p) => (
              <select
                {...p}
                value={s.team}
                onChange={(e) =>
                  update((x) => {
                    (x.stages[i] as Stage).team = e.target.value as Stage['team'];
                  })
                }
              >
                <option value="marketing">Marketing</option>
                <option value="sales">Sales</option>
              </select>
            )}
          </Field>
          <Field label="What it means" error={problemAt(`stages[${i}].role`)}>
            {(p) => (
              <select
                {...p}
                value={s.role}
                onChange={(e) =>
                  update((x) => {
                    (x.stages[i] as Stage).role = e.target.value;
                  })
                }
              >
                {ROLES.map(([k, label]) => (
                  <option key={k} value={k}>
                    {label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Button
            kind="ghost"
            aria-label={`Remove the stage ${s.name}`}
            onClick={() =>
              update((x) => {
                x.stages.splice(i, 1);
              })
            }
          >
            Remove
          </Button>
        </div>
      ))}
      <Button
        onClick={() =>
          update((x) => {
            const key = keyOf('New stage', new Set(x.stages.map((s) => s.key)));
            x.stages.push({ key, name: 'New stage', team: 'sales', phase: 'intent', role: 'working' });
          })
        }
      >
        Add a stage
      </Button>

      {REASON_KINDS.map(([kind, title]) => (
        <div key={kind}>
          <h3 style={{ marginTop: 24 }}>{title}</h3>
          {doc.reasons[kind].map((r, i) => (
            <div className="rule" key={r.code}>
              <Field label="Reason" error={problemAt(`reasons.${kind}[${i}].label`)}>
                {(p) => (
                  <input
                    {...p}
                    value={r.label}
                    onChange={(e) =>
                      update((x) => {
                        (x.reasons[kind][i] as Reason).label = e.target.value;
                      })
                    }
                  />
                )}
              </Field>
              <Field label="The lead goes to" error={problemAt(`reasons.${kind}[${i}].to`)}>
                {(p) => (
                  <select
                    {...p}
                    value={r.to ?? ''}
                    onChange={(e) =>
                      update((x) => {
                        (x.reasons[kind][i] as Reason).to = e.target.value;
                      })
                    }
                  >
                    {endStages.map((s) => (
                      <option key={s.key} value={s.key}>
                        {s.name}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <label className="check">
                <input
                  type="checkbox"
                  checked={r.noteRequired}
                  onChange={(e) =>
                    update((x) => {
                      (x.reasons[kind][i] as Reason).noteRequired = e.target.checked;
                    })
                  }
                />{' '}
                Needs a note
              </label>
              <Button
                kind="ghost"
                aria-label={`Remove the reason ${r.label}`}
                onClick={() =>
                  update((x) => {
                    x.reasons[kind].splice(i, 1);
                  })
                }
              >
                Remove
              </Button>
            </div>
          ))}
          <Button
            onClick={() =>
              update((x) => {
                const code = keyOf('new reason', new Set(x.reasons[kind].map((r) => r.code)));
                x.reasons[kind].push({ code, label: 'New reason', to: endStages[0]?.key ?? 'nurture', noteRequired: false });
              })
            }
          >
            Add a reason
          </Button>
        </div>
      ))}

      <h3 style={{ marginTop: 24 }}>Who receives leads</h3>
      <label className="check">
        <input
          type="checkbox"
          checked={doc.routing.accountOwnerFirst}
          onChange={(e) =>
            update((x) => {
              x.routing.accountOwnerFirst = e.target.checked;
            })
          }
        />{' '}
        The account’s owner first, when the account has one
      </label>
      <p className="hint">
        {doc.routing.rules.length ? `${doc.routing.rules.length} routing rule(s) by territory or industry come next (edit them in the JSON below). ` : ''}
        Then round robin among the people ticked here, with their weights (none ticked: every active sales rep, equally).
      </p>
      <div className="rule">
        {sales.map((u) => {
          const member = doc.routing.fallbackPool.find((m) => m.user.toLowerCase() === u.email.toLowerCase());
          return (
            <div key={u.id} className="pool-member">
              <label className="check">
                <input
                  type="checkbox"
                  checked={Boolean(member)}
                  onChange={(e) =>
                    update((x) => {
                      x.routing.fallbackPool = e.target.checked
                        ? [...x.routing.fallbackPool, { user: u.email, weight: 1 }]
                        : x.routing.fallbackPool.filter((m) => m.user.toLowerCase() !== u.email.toLowerCase());
                    })
                  }
                />{' '}
                {u.name}
              </label>
              {member ? (
                <input
                  type="number"
                  min={0}
                  max={100}
                  aria-label={`Weight of ${u.name}`}
                  value={member.weight}
                  onChange={(e) =>
                    update((x) => {
                      const m = x.routing.fallbackPool.find((p) => p.user.toLowerCase() === u.email.toLowerCase());
                      if (m) m.weight = Number(e.target.value);
                    })
                  }
                />
              ) : null}
            </div>
          );
        })}
      </div>

      <h3 style={{ marginTop: 24 }}>When a deadline nears or passes</h3>
      {problemAt('escalation') ? <p className="error-text">{problemAt('escalation')}</p> : null}
      {doc.escalation.map((step, i) => (
        // Steps have no identity of their own; keyed by place, so typing in one keeps its focus.
        // biome-ignore lint/suspicious/noArrayIndexKey: see above
        <div className="rule" key={i}>
          <Field label="At this share of the time (%)" error={problemAt(`escalation[${i}].at`)}>
            {(p) => (
              <input
                {...p}
                type="number"
                value={Math.round(step.at * 100)}
                onChange={(e) =>
                  update((x) => {
                    (x.escalation[i] as { at: number }).at = Number(e.target.value) / 100;
                  })
                }
              />
            )}
          </Field>
          <Field label="Then" error={problemAt(`escalation[${i}].action`)}>
            {(p) => (
              <select
                {...p}
                value={step.action}
                onChange={(e) =>
                  update((x) => {
                    (x.escalation[i] as { action: string }).action = e.target.value;
                  })
                }
              >
                {ACTIONS.map(([k, label]) => (
                  <option key={k} value={k}>
                    {label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Button
            kind="ghost"
            aria-label={`Remove escalation step ${i + 1}`}
            onClick={() =>
              update((x) => {
                x.escalation.splice(i, 1);
              })
            }
          >
            Remove
          </Button>
        </div>
      ))}
      <Button
        onClick={() =>
          update((x) => {
            const lastAt = x.escalation[x.escalation.length - 1]?.at ?? 0.5;
            x.escalation.push({ at: Math.round((lastAt + 0.5) * 100) / 100, action: 'notify_lead' });
          })
        }
      >
        Add a step
      </Button>

      <h3 style={{ marginTop: 24 }}>What each team commits to</h3>
      <div className="grid-3">
        <PercentField
          label="Marketing: accepted share of MQLs (%)"
          value={doc.commitments.marketing.minAcceptanceRate}
          error={problemAt('commitments.marketing.minAcceptanceRate')}
          onChange={(v) =>
            update((x) => {
              x.commitments.marketing.minAcceptanceRate = v;
            })
          }
        />
        <PercentField
          label="Sales: handoffs answered in time (%)"
          value={doc.commitments.sales.acceptOnTimeRate}
          error={problemAt('commitments.sales.acceptOnTimeRate')}
          onChange={(v) =>
            update((x) => {
              x.commitments.sales.acceptOnTimeRate = v;
            })
          }
        />
        <PercentField
          label="Sales: first contact in time (%)"
          value={doc.commitments.sales.firstContactOnTimeRate}
          error={problemAt('commitments.sales.firstContactOnTimeRate')}
          onChange={(v) =>
            update((x) => {
              x.commitments.sales.firstContactOnTimeRate = v;
            })
          }
        />
      </div>
    </>
  );
}

/** A share stored as 0..1, edited as a percentage. */
function PercentField({ label, value, error, onChange }: { label: string; value: number; error: string | undefined; onChange: (share: number) => void }) {
  return (
    <Field label={label} error={error}>
      {(p) => <input {...p} type="number" value={Math.round(value * 100)} onChange={(e) => onChange(Number(e.target.value) / 100)} />}
    </Field>
  );
}
