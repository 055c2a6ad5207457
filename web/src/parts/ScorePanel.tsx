import { useApi } from '../data';
import { CLASS_LABELS, formatDate } from '../format';
import type { ScoreClass } from '../types';
import { ErrorNote, Spinner } from '../ui';

interface Score {
  class: ScoreClass;
  classLabel: string;
  thresholds: { fit: number; interest: number };
  fit: { score: number; rules: { id: string; label: string; points: number }[] };
  interest: {
    score: number;
    halfLifeDays: number;
    rules: { id: string; label: string; events: number; earned: number; now: number; lastAt: string; halvesBy: string }[];
  };
}

const QUADRANTS: ScoreClass[] = ['low_fit_high_interest', 'good_fit_high_interest', 'low_fit_low_interest', 'good_fit_low_interest'];

/** Fit and interest, which rules gave them, and the lead's place in the 2x2. */
export function ScorePanel({ leadId, refreshKey }: { leadId: string; refreshKey: number }) {
  const { data, error, reload } = useApi<Score>(`/api/leads/${leadId}/score?r=${refreshKey}`);
  if (error) return <ErrorNote message={error} retry={reload} />;
  if (!data) return <Spinner label="Loading scores" />;
  const round = (n: number) => Math.round(n * 10) / 10;
  return (
    <div className="grid-2">
      <div>
        <div className="grid-3">
          <div>
            <div className="stat">{data.fit.score}</div>
            <div className="stat-label">Fit (good from {data.thresholds.fit})</div>
          </div>
          <div>
            <div className="stat">{round(data.interest.score)}</div>
            <div className="stat-label">Interest (high from {data.thresholds.interest})</div>
          </div>
        </div>
        <h3 style={{ marginTop: 16 }}>Why this fit</h3>
        {data.fit.rules.length === 0 ? <p className="muted">No fit rule matched.</p> : null}
        <ul>
          {data.fit.rules.map((r) => (
            <li key={r.id}>
              {r.label}: <strong>{r.points > 0 ? `+${r.points}` : r.points}</strong>
            </li>
          ))}
        </ul>
        <h3>Why this interest</h3>
        {data.interest.rules.length === 0 ? <p className="muted">No behaviour has earned points yet.</p> : null}
        <ul>
          {data.interest.rules.map((r) => (
            <li key={r.id}>
              {r.label}: {r.events} events earned {round(r.earned)}, worth <strong>{round(r.now)}</strong> now; halves by {formatDate(r.halvesBy)}
            </li>
          ))}
        </ul>
      </div>
      <figure style={{ margin: 0 }}>
        <div className="quadrant" role="img" aria-label={`Place in the fit and interest grid: ${CLASS_LABELS[data.class]}`}>
          {QUADRANTS.map((q) => (
            <div key={q} className={q === data.class ? 'here' : ''}>
              {CLASS_LABELS[q]}
            </div>
          ))}
        </div>
        <figcaption className="muted">Interest rises upwards, fit to the right. This lead: {data.classLabel}.</figcaption>
      </figure>
    </div>
  );
}
