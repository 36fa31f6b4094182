import type { Validation } from '../api/types';
import type { MetricThresholds } from '../lib/quality';
import { ScoreMeter } from './ScoreMeter';

/** The six meters of a validation (overall, face, pose, colour, style, branding) against a tier's pass marks. */
export function ScoreMeters({ validation: v, thresholds: th }: { validation: Validation; thresholds: MetricThresholds }) {
  const metrics: [string, string, number | null | undefined, number][] = [
    ['face', 'Face consistency', v.consistency?.face, th.face],
    ['pose', 'Pose accuracy', v.consistency?.pose, th.pose],
    ['color', 'Colour matching', v.accuracy?.color, th.color],
    ['style', 'Style accuracy', v.accuracy?.style, th.style],
    ['branding', 'Branding quality', v.accuracy?.branding, th.branding],
  ];
  return (
    <>
      <ScoreMeter label="Overall" score={v.overallQuality} threshold={th.overall} testId="meter-overall" />
      {metrics.map(([key, label, score, t]) => (
        <ScoreMeter key={key} label={label} score={score} threshold={t} testId={`meter-${key}`} />
      ))}
      {v.feedback && v.feedback.length > 0 && (
        <ul className="feedback" aria-label="Feedback">
          {v.feedback.map((f, i) => (
            <li key={i}>{f}</li>
          ))}
        </ul>
      )}
    </>
  );
}
