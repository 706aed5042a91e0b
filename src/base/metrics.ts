import { assert } from './assert.ts';

/**
 * A small metrics registry rendered in the Prometheus text format. Counters and gauges are plain
 * numbers updated in place (no allocation per update); gauges may also be read from a callback when
 * scraped. Labels are fixed per series at creation.
 */
type Labels = Readonly<Record<string, string>>;

interface Series {
  readonly labels: Labels;
  value: number;
  read?: () => number;
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly series: Map<string, Series>;
}

export class Counter {
  readonly #series: Series;
  constructor(series: Series) {
    this.#series = series;
  }
  add(amount = 1): void {
    this.#series.value += amount;
  }
  get value(): number {
    return this.#series.value;
  }
}

export class Gauge {
  readonly #series: Series;
  constructor(series: Series) {
    this.#series = series;
  }
  set(value: number): void {
    this.#series.value = value;
  }
  get value(): number {
    return this.#series.read?.() ?? this.#series.value;
  }
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function labelKey(labels: Labels): string {
  return Object.entries(labels)
    .map(
      ([key, value]) => `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
    )
    .join(',');
}

export class MetricsRegistry {
  readonly #families = new Map<string, Family>();

  counter(name: string, help: string, labels: Labels = {}): Counter {
    return new Counter(this.#series(name, help, 'counter', labels));
  }

  gauge(name: string, help: string, labels: Labels = {}, read?: () => number): Gauge {
    const series = this.#series(name, help, 'gauge', labels);
    if (read !== undefined) series.read = read;
    return new Gauge(series);
  }

  /** Removes one labelled series (for example a deleted partition's). */
  remove(name: string, labels: Labels): void {
    this.#families.get(name)?.series.delete(labelKey(labels));
  }

  render(): string {
    const lines: string[] = [];
    for (const family of this.#families.values()) {
      lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
      for (const [key, series] of family.series) {
        const value = series.read?.() ?? series.value;
        lines.push(`${family.name}${key === '' ? '' : `{${key}}`} ${value}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  #series(name: string, help: string, type: Family['type'], labels: Labels): Series {
    assert(metricName.test(name), `invalid metric name ${name}`);
    let family = this.#families.get(name);
    if (family === undefined) {
      family = { name, help, type, series: new Map() };
      this.#families.set(name, family);
    }
    const key = labelKey(labels);
    let series = family.series.get(key);
    if (series === undefined) {
      series = { labels, value: 0 };
      family.series.set(key, series);
    }
    return series;
  }
}
