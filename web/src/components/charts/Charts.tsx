import { useId } from 'react';
import { barLayout, countAxis, linePath, linearScale, niceMax, ticks } from '../../lib/charts';

const W = 320;
const H = 140;
const PAD = { left: 40, bottom: 22, top: 8, right: 8 };

interface ChartProps {
  title: string;
  labels: string[];
  values: (number | null)[];
  /** Axis top; a nice value above the data when omitted. */
  max?: number;
  format(v: number): string;
  testId?: string;
  /** The values are counts: whole-number ticks. */
  counts?: boolean;
}

/** The numbers behind a chart, for screen readers (and anyone reading the DOM). */
function DataTable({ title, labels, values, format }: Omit<ChartProps, 'max' | 'testId'>) {
  // The clipping box is a div: a table ignores `width: 1px` and kept its
  // full width, which scrolled the dashboard sideways on a phone.
  return (
    <div className="sr-only">
      <table>
        <caption>{title}</caption>
        <tbody>
          {labels.map((l, i) => (
            <tr key={`${l}-${i}`}>
              <th scope="row">{l}</th>
              <td>{values[i] == null ? 'no data' : format(values[i] as number)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Axis({ max, format, count = 4 }: { max: number; format(v: number): string; count?: number }) {
  const plotH = H - PAD.top - PAD.bottom;
  const y = linearScale([0, max], [PAD.top + plotH, PAD.top]);
  return (
    <g className="axis" aria-hidden="true">
      {ticks(max, count).map((t) => (
        <g key={t}>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="grid" />
          <text x={PAD.left - 4} y={y(t) + 3} textAnchor="end">
            {format(t)}
          </text>
        </g>
      ))}
    </g>
  );
}

/** Which labels fit under the x axis: at most ~6, always the first and last. */
function shownLabels(n: number): Set<number> {
  const step = Math.max(1, Math.ceil(n / 6));
  const out = new Set<number>();
  for (let i = 0; i < n; i += step) out.add(i);
  if (n > 0) out.add(n - 1);
  return out;
}

function Frame({ title, testId, count, children, table }: { title: string; testId?: string; count: number; children: React.ReactNode; table: React.ReactNode }) {
  const id = useId();
  return (
    <figure className="chart" data-testid={testId} data-points={count}>
      <figcaption id={id}>{title}</figcaption>
      {count === 0 ? (
        <p className="muted small chart-empty">No data in this range.</p>
      ) : (
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={id} preserveAspectRatio="xMidYMid meet">
          {children}
        </svg>
      )}
      {table}
    </figure>
  );
}

export function BarChart({ title, labels, values, max, format, testId, counts }: ChartProps) {
  const nums = values.map((v) => v ?? 0);
  const axis = counts ? countAxis(Math.max(0, ...nums)) : { top: max ?? niceMax(Math.max(0, ...nums)), count: 4 };
  const top = axis.top;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const bars = barLayout(nums, plotW, plotH, top);
  const show = shownLabels(labels.length);
  return (
    <Frame title={title} testId={testId} count={values.length} table={<DataTable title={title} labels={labels} values={values} format={format} />}>
      <Axis max={top} format={format} count={axis.count} />
      <g transform={`translate(${PAD.left} ${PAD.top})`}>
        {bars.map((b, i) => (
          <rect key={i} className="bar" x={b.x} y={b.y} width={b.width} height={b.height} data-value={nums[i]}>
            <title>{`${labels[i]}: ${format(nums[i])}`}</title>
          </rect>
        ))}
        {bars.map((b, i) =>
          show.has(i) ? (
            <text key={`l${i}`} className="x-label" x={b.x + b.width / 2} y={plotH + 14} textAnchor="middle" aria-hidden="true">
              {labels[i]}
            </text>
          ) : null,
        )}
      </g>
    </Frame>
  );
}

export function LineChart({ title, labels, values, max, format, testId }: ChartProps) {
  const nums = values.filter((v): v is number => v != null);
  const top = max ?? niceMax(Math.max(0, ...nums));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const n = values.length;
  const x = (i: number) => (n <= 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const y = linearScale([0, top], [plotH, 0]);
  const show = shownLabels(n);
  return (
    <Frame title={title} testId={testId} count={nums.length === 0 ? 0 : n} table={<DataTable title={title} labels={labels} values={values} format={format} />}>
      <Axis max={top} format={format} />
      <g transform={`translate(${PAD.left} ${PAD.top})`}>
        <path className="line" d={linePath(values, plotW, plotH, top)} />
        {values.map((v, i) =>
          v == null ? null : (
            <circle key={i} className="point" cx={x(i)} cy={y(Math.min(v, top))} r={3} data-value={v}>
              <title>{`${labels[i]}: ${format(v)}`}</title>
            </circle>
          ),
        )}
        {values.map((_, i) =>
          show.has(i) ? (
            <text key={`l${i}`} className="x-label" x={x(i)} y={plotH + 14} textAnchor="middle" aria-hidden="true">
              {labels[i]}
            </text>
          ) : null,
        )}
      </g>
    </Frame>
  );
}
