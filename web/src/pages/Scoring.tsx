import { useEffect, useState } from 'react';
import { ApiError, api, messageOf, type Problem } from '../api';
import { useApi } from '../data';
import { CLASS_LABELS, formatDateTime } from '../format';
import { type ScoringDoc, ScoringForm } from '../parts/ScoringForm';
import { useTitle } from '../router';
import { useSession } from '../session';
import type { ScoreClass } from '../types';
import { Badge, Button, Confirm, ErrorNote, Field, ProblemList, Spinner, toast } from '../ui';

interface Scoring {
  active: { version: number; builtIn: boolean; activatedAt: string | null; document: Record<string, unknown> };
  draft: { version: number; updatedAt: string; document: Record<string, unknown> } | null;
}
interface Preview {
  leads: number;
  classChanges: number;
  transitions: { from: ScoreClass | null; to: ScoreClass; leads: number }[];
  byClass: Record<ScoreClass, number>;
  wouldQualify: number;
}

/** Scoring rules: edit a draft, preview what it would change, activate it. */
export default function ScoringPage() {
  useTitle('Scoring');
  const { me } = useSession();
  const scoring = useApi<Scoring>('/api/scoring');
  const [doc, setDoc] = useState<ScoringDoc | null>(null);
  const [mode, setMode] = useState<'form' | 'json'>('form');
  const [text, setText] = useState<string | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const mayEdit = me.user.level === 'lead' || me.user.isAdmin;

  useEffect(() => {
    if (scoring.data && doc === null) setDoc(structuredClone((scoring.data.draft ?? scoring.data.active).document) as unknown as ScoringDoc);
  }, [scoring.data, doc]);
  const switchTo = (next: 'form' | 'json') => {
    if (next === mode) return;
    if (next === 'json') setText(JSON.stringify(doc, null, 2));
    else {
      try {
        setDoc(JSON.parse(text ?? '{}'));
        setProblems([]);
      } catch (e) {
        setProblems([{ path: '', message: `Fix the JSON first: ${messageOf(e)}` }]);
        return;
      }
    }
    setMode(next);
  };

  async function run(what: 'preview' | 'save' | 'activate') {
    setBusy(what);
    setProblems([]);
    try {
      const document = mode === 'json' ? JSON.parse(text ?? '{}') : doc;
      if (what === 'preview') setPreview(await api<Preview>('/api/scoring/preview', { body: { document } }));
      if (what === 'save') {
        await api('/api/scoring/draft', { method: 'PUT', body: { document } });
        toast('Draft saved');
        scoring.reload();
      }
      if (what === 'activate') {
        await api('/api/scoring/draft', { method: 'PUT', body: { document } });
        const r = await api<{ version: number; rescored: number; qualifying: number }>('/api/scoring/activate', { method: 'POST', body: {} });
        toast(`Version ${r.version} active: ${r.rescored.toLocaleString()} leads rescored`);
        setConfirming(false);
        scoring.reload();
      }
    } catch (e) {
      if (e instanceof SyntaxError) setProblems([{ path: '', message: `Not valid JSON: ${e.message}` }]);
      else if (e instanceof ApiError && e.problems.length) setProblems(e.problems);
      else toast(messageOf(e), 'bad');
      setConfirming(false);
    } finally {
      setBusy(null);
    }
  }

  if (scoring.error) return <ErrorNote message={scoring.error} retry={scoring.reload} />;
  if (!scoring.data || doc === null) return <Spinner label="Loading the scoring rules" />;
  const { active, draft } = scoring.data;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Scoring rules</h1>
          <p className="muted">
            {active.builtIn ? 'The built-in rules apply.' : `Version ${active.version} active since ${formatDateTime(active.activatedAt)}.`}{' '}
            {draft ? `Draft version ${draft.version}, saved ${formatDateTime(draft.updatedAt)}.` : null}
          </p>
        </div>
      </div>
      <div className="scoring-layout">
        <section className="panel" aria-labelledby="rules-title">
          <h2 id="rules-title">Rules</h2>
          <div className="tabs" role="tablist" aria-label="Edit as">
            <button type="button" role="tab" aria-selected={mode === 'form'} onClick={() => switchTo('form')}>
              Form
            </button>
            <button type="button" role="tab" aria-selected={mode === 'json'} onClick={() => switchTo('json')}>
              JSON
            </button>
          </div>
          {mode === 'form' ? (
            <ScoringForm doc={doc} onChange={setDoc} problems={problems} readOnly={!mayEdit} />
          ) : (
            <Field
              label="Rules document (JSON)"
              hint="Fit rules on lead and account fields, interest rules on events with caps and a half-life, and the two thresholds."
            >
              {(p) => (
                <textarea {...p} className="code-edit" spellCheck={false} value={text ?? ''} readOnly={!mayEdit} onChange={(e) => setText(e.target.value)} />
              )}
            </Field>
          )}
          <ProblemList problems={problems} />
          <div className="actions">
            <Button busy={busy === 'preview'} onClick={() => void run('preview')}>
              Preview the effect
            </Button>
            {mayEdit ? (
              <>
                <Button busy={busy === 'save'} onClick={() => void run('save')}>
                  Save draft
                </Button>
                <Button kind="primary" onClick={() => setConfirming(true)}>
                  Activate…
                </Button>
              </>
            ) : null}
          </div>
        </section>
        <section className="panel" aria-labelledby="preview-title">
          <h2 id="preview-title">What would change</h2>
          {!preview ? <p className="muted">Preview to see how many leads would change class or qualify for sales, before anything is saved.</p> : null}
          {preview ? (
            <>
              <div className="grid-3">
                <div>
                  <div className="stat">{preview.classChanges.toLocaleString()}</div>
                  <div className="stat-label">of {preview.leads.toLocaleString()} leads change class</div>
                </div>
                <div>
                  <div className="stat">{preview.wouldQualify.toLocaleString()}</div>
                  <div className="stat-label">would qualify for sales</div>
                </div>
              </div>
              <h3 style={{ marginTop: 16 }}>Leads by class afterwards</h3>
              <ul>
                {(Object.keys(CLASS_LABELS) as ScoreClass[]).map((c) => (
                  <li key={c}>
                    {CLASS_LABELS[c]}: <strong>{preview.byClass[c]?.toLocaleString() ?? 0}</strong>
                  </li>
                ))}
              </ul>
              {preview.transitions.length ? <h3>Moves</h3> : null}
              <ul>
                {preview.transitions.map((t) => (
                  <li key={`${t.from}-${t.to}`}>
                    {t.from ? CLASS_LABELS[t.from] : 'Unscored'} → {CLASS_LABELS[t.to]}: <Badge>{t.leads.toLocaleString()}</Badge>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </section>
      </div>
      <Confirm
        open={confirming}
        title="Activate these rules?"
        body={
          <p>Every lead is rescored now and the change is kept in each lead’s score history. Leads that come to qualify go to sales with their next event.</p>
        }
        confirmLabel="Activate and rescore"
        busy={busy === 'activate'}
        onConfirm={() => void run('activate')}
        onClose={() => setConfirming(false)}
      />
    </>
  );
}
