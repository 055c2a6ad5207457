import type { Problem } from '../api';
import { Button, Field } from '../ui';

/** The scoring rules document, as the form edits it (the server validates it in full). */
export interface ScoringDoc {
  fit: { rules: FitRule[] };
  interest: { halfLifeDays: number; rules: InterestRule[] };
  thresholds: { fit: number; interest: number };
}
interface FitRule {
  id: string;
  label: string;
  field?: string;
  op: 'equals' | 'oneOf' | 'contains' | 'range' | 'persona';
  value: string | string[] | { min?: number; max?: number };
  points: number;
}
interface InterestRule {
  id: string;
  label: string;
  when: { type?: string | string[]; event?: string; properties?: unknown[] };
  points: number;
  cap?: { points: number; days: number };
}

const FIELDS = [
  'title',
  'country',
  'persona',
  'source',
  'company',
  'email_domain',
  'status',
  'account.industry',
  'account.employees',
  'account.country',
  'account.region',
  'account.domain',
];
const OPS: [FitRule['op'], string][] = [
  ['equals', 'is'],
  ['oneOf', 'is one of'],
  ['contains', 'contains'],
  ['range', 'is between'],
  ['persona', 'persona is one of'],
];
const TYPES = ['track', 'page', 'identify', 'screen', 'group'];

const list = (v: FitRule['value']) => (Array.isArray(v) ? v.join(', ') : typeof v === 'string' ? v : '');
const parseList = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const slug = (s: string, taken: Set<string>) => {
  const base =
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 30) || 'rule';
  let id = /^[a-z]/.test(base) ? base : `r-${base}`;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
};

/**
 * The rules as a form: thresholds and half-life, one line per fit rule (field, test, value,
 * points) and per interest rule (event, points, cap). Problems the server found show at their field.
 */
export function ScoringForm({
  doc,
  onChange,
  problems,
  readOnly,
}: {
  doc: ScoringDoc;
  onChange: (d: ScoringDoc) => void;
  problems: Problem[];
  readOnly: boolean;
}) {
  const at = (path: string) => problems.find((p) => p.path.replace(/^body\.document\./, '').replace(/^document\./, '') === path)?.message;
  const edit = (change: (d: ScoringDoc) => void) => {
    const next = structuredClone(doc);
    change(next);
    onChange(next);
  };
  const ids = new Set([...doc.fit.rules.map((r) => r.id), ...doc.interest.rules.map((r) => r.id)]);
  return (
    <fieldset disabled={readOnly} className="plain">
      <h3>Classes</h3>
      <div className="grid-3">
        <Field label="Good fit from" hint="Fit points" error={at('thresholds.fit')}>
          {(p) => (
            <input
              {...p}
              type="number"
              value={doc.thresholds.fit}
              onChange={(e) => edit((d) => void Object.assign(d.thresholds, { fit: Number(e.target.value) }))}
            />
          )}
        </Field>
        <Field label="High interest from" hint="Interest points, after decay" error={at('thresholds.interest')}>
          {(p) => (
            <input
              {...p}
              type="number"
              value={doc.thresholds.interest}
              onChange={(e) => edit((d) => void Object.assign(d.thresholds, { interest: Number(e.target.value) }))}
            />
          )}
        </Field>
        <Field label="Interest halves every" hint="Days" error={at('interest.halfLifeDays')}>
          {(p) => (
            <input
              {...p}
              type="number"
              value={doc.interest.halfLifeDays}
              onChange={(e) => edit((d) => void Object.assign(d.interest, { halfLifeDays: Number(e.target.value) }))}
            />
          )}
        </Field>
      </div>

      <h3>Fit: who they are</h3>
      <datalist id="fit-fields">
        {FIELDS.map((f) => (
          <option key={f} value={f} />
        ))}
      </datalist>
      {doc.fit.rules.map((r, i) => (
        <div className="rule" key={r.id}>
          <Field label="Rule" error={at(`fit.rules[${i}].label`)}>
            {(p) => <input {...p} value={r.label} onChange={(e) => edit((d) => void Object.assign(d.fit.rules[i] as FitRule, { label: e.target.value }))} />}
          </Field>
          {r.op !== 'persona' ? (
            <Field label="Field" error={at(`fit.rules[${i}].field`)}>
              {(p) => (
                <input
                  {...p}
                  list="fit-fields"
                  value={r.field ?? ''}
                  onChange={(e) => edit((d) => void Object.assign(d.fit.rules[i] as FitRule, { field: e.target.value }))}
                />
              )}
            </Field>
          ) : null}
          <Field label="Test" error={at(`fit.rules[${i}].op`)}>
            {(p) => (
              <select
                {...p}
                value={r.op}
                onChange={(e) =>
                  edit((d) => {
                    const rule = d.fit.rules[i] as FitRule;
                    const op = e.target.value as FitRule['op'];
                    rule.op = op;
                    rule.value = op === 'range' ? {} : op === 'equals' ? list(rule.value).split(',')[0]?.trim() || '' : parseList(list(rule.value));
                    if (op === 'persona') delete rule.field;
                    else rule.field ??= 'title';
                  })
                }
              >
                {OPS.map(([k, label]) => (
                  <option key={k} value={k}>
                    {label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {r.op === 'range' ? (
            <>
              <Field label="From" error={at(`fit.rules[${i}].value`)}>
                {(p) => (
                  <input
                    {...p}
                    type="number"
                    value={(r.value as { min?: number }).min ?? ''}
                    onChange={(e) =>
                      edit(
                        (d) =>
                          void Object.assign((d.fit.rules[i] as FitRule).value as object, { min: e.target.value === '' ? undefined : Number(e.target.value) }),
                      )
                    }
                  />
                )}
              </Field>
              <Field label="To">
                {(p) => (
                  <input
                    {...p}
                    type="number"
                    value={(r.value as { max?: number }).max ?? ''}
                    onChange={(e) =>
                      edit(
                        (d) =>
                          void Object.assign((d.fit.rules[i] as FitRule).value as object, { max: e.target.value === '' ? undefined : Number(e.target.value) }),
                      )
                    }
                  />
                )}
              </Field>
            </>
          ) : (
            <Field label={r.op === 'equals' ? 'Value' : 'Values (commas between)'} error={at(`fit.rules[${i}].value`)}>
              {(p) => (
                <input
                  {...p}
                  value={list(r.value)}
                  onChange={(e) =>
                    edit((d) => void Object.assign(d.fit.rules[i] as FitRule, { value: r.op === 'equals' ? e.target.value : parseList(e.target.value) }))
                  }
                />
              )}
            </Field>
          )}
          <Field label="Points" error={at(`fit.rules[${i}].points`)}>
            {(p) => (
              <input
                {...p}
                type="number"
                value={r.points}
                onChange={(e) => edit((d) => void Object.assign(d.fit.rules[i] as FitRule, { points: Number(e.target.value) }))}
              />
            )}
          </Field>
          <Button kind="ghost" aria-label={`Remove the rule ${r.label}`} onClick={() => edit((d) => void d.fit.rules.splice(i, 1))}>
            Remove
          </Button>
        </div>
      ))}
      <Button
        onClick={() =>
          edit(
            (d) =>
              void d.fit.rules.push({ id: slug('new fit rule', ids), label: 'New fit rule', field: 'title', op: 'contains', value: ['director'], points: 10 }),
          )
        }
      >
        Add a fit rule
      </Button>

      <h3 style={{ marginTop: 24 }}>Interest: what they do</h3>
      {doc.interest.rules.map((r, i) => (
        <div className="rule" key={r.id}>
          <Field label="Rule" error={at(`interest.rules[${i}].label`)}>
            {(p) => (
              <input {...p} value={r.label} onChange={(e) => edit((d) => void Object.assign(d.interest.rules[i] as InterestRule, { label: e.target.value }))} />
            )}
          </Field>
          <Field label="Event type" error={at(`interest.rules[${i}].when`)}>
            {(p) => (
              <select
                {...p}
                value={Array.isArray(r.when.type) ? (r.when.type[0] ?? '') : (r.when.type ?? '')}
                onChange={(e) =>
                  edit((d) => {
                    const when = (d.interest.rules[i] as InterestRule).when;
                    if (e.target.value) when.type = e.target.value;
                    else delete when.type;
                  })
                }
              >
                <option value="">Any</option>
                {TYPES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Event or page name" error={at(`interest.rules[${i}].when.event`)}>
            {(p) => (
              <input
                {...p}
                value={r.when.event ?? ''}
                placeholder="any"
                onChange={(e) =>
                  edit((d) => {
                    const when = (d.interest.rules[i] as InterestRule).when;
                    if (e.target.value) when.event = e.target.value;
                    else delete when.event;
                  })
                }
              />
            )}
          </Field>
          <Field label="Points" error={at(`interest.rules[${i}].points`)}>
            {(p) => (
              <input
                {...p}
                type="number"
                value={r.points}
                onChange={(e) => edit((d) => void Object.assign(d.interest.rules[i] as InterestRule, { points: Number(e.target.value) }))}
              />
            )}
          </Field>
          <Field label="At most, per period" hint="Points; empty for no cap" error={at(`interest.rules[${i}].cap.points`)}>
            {(p) => (
              <input
                {...p}
                type="number"
                value={r.cap?.points ?? ''}
                onChange={(e) =>
                  edit((d) => {
                    const rule = d.interest.rules[i] as InterestRule;
                    if (e.target.value === '') delete rule.cap;
                    else rule.cap = { days: rule.cap?.days ?? 30, points: Number(e.target.value) };
                  })
                }
              />
            )}
          </Field>
          <Field label="Period" hint="Days" error={at(`interest.rules[${i}].cap.days`)}>
            {(p) => (
              <input
                {...p}
                type="number"
                disabled={!r.cap}
                value={r.cap?.days ?? ''}
                onChange={(e) => edit((d) => void Object.assign((d.interest.rules[i] as InterestRule).cap as object, { days: Number(e.target.value) }))}
              />
            )}
          </Field>
          <Button kind="ghost" aria-label={`Remove the rule ${r.label}`} onClick={() => edit((d) => void d.interest.rules.splice(i, 1))}>
            Remove
          </Button>
        </div>
      ))}
      <Button
        onClick={() =>
          edit(
            (d) =>
              void d.interest.rules.push({
                id: slug('new interest rule', ids),
                label: 'New interest rule',
                when: { type: 'track', event: 'Webinar Attended' },
                points: 10,
              }),
          )
        }
      >
        Add an interest rule
      </Button>
    </fieldset>
  );
}
