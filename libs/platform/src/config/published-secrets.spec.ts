import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEV_INTERNAL_TOKEN,
  isPublishedSecret,
  PUBLISHED_SECRET_VALUES,
  SECRET_VARIABLES,
} from './published-secrets';

const ROOT = join(__dirname, '..', '..', '..', '..');

/**
 * The values the delivery files give secret variables: `NAME: value`, compose defaults
 * `${NAME:-value}`, and Kubernetes `- name: NAME` followed by `value: …`. References without a
 * value (`${NAME}`, `${NAME:?message}`, `secretKeyRef`) give none. Comments are skipped.
 */
function secretValuesIn(text: string): string[] {
  const found: string[] = [];
  const lines = text.split('\n').map((line) => line.replace(/^\s*#.*$/, ''));
  const unquote = (value: string): string => value.trim().replace(/^(['"])(.*)\1$/, '$2');
  for (const [index, line] of lines.entries()) {
    for (const name of SECRET_VARIABLES) {
      const direct = new RegExp(`^\\s*-?\\s*${name}\\s*[:=]\\s*(.+)$`).exec(line);
      if (direct) {
        const raw = unquote(direct[1]);
        const interpolated = /^\$\{[A-Za-z_]+(?::?-([^}]*))?(?::?\?[^}]*)?\}$/.exec(raw);
        const value = interpolated ? interpolated[1] : raw;
        if (value && !value.startsWith('{')) {
          found.push(value);
        }
      }
      if (new RegExp(`^\\s*-\\s*name:\\s*${name}\\s*$`).test(line)) {
        const next = /^\s*value:\s*(.+)$/.exec(lines[index + 1] ?? '');
        if (next && unquote(next[1]) !== '') {
          found.push(unquote(next[1]));
        }
      }
    }
  }
  return found;
}

function deliveryFiles(dir = join(ROOT, 'docker')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return deliveryFiles(path);
    }
    return /\.(ya?ml|env|example)$/.test(entry.name) || entry.name.startsWith('.env') ? [path] : [];
  });
}

describe('PUBLISHED_SECRET_VALUES', () => {
  it('covers every secret value written in docker/ and k8s/', () => {
    const files = [...deliveryFiles(), ...deliveryFiles(join(ROOT, 'k8s'))];
    // The walk really reaches the overlays' files (secrets.env.example, patches).
    expect(files.some((file) => file.endsWith('secrets.env.example'))).toBe(true);
    const values = files.flatMap((file) =>
      secretValuesIn(readFileSync(file, 'utf8')).map((value) => ({ file, value })),
    );
    expect(values.filter((v) => !isPublishedSecret(v.value))).toEqual([]);
  });

  it('reads the forms the delivery files use', () => {
    expect(
      secretValuesIn(
        [
          'INTERNAL_TOKEN: ${INTERNAL_TOKEN:-compose-default}',
          'JWT_PRIVATE_KEY: ${JWT_PRIVATE_KEY:?set it}',
          '  - name: INTERNAL_TOKEN',
          '    value: "inline-value"',
          '  # INTERNAL_TOKEN: commented-out',
          "  INTERNAL_TOKEN: 'quoted'",
        ].join('\n'),
      ),
    ).toEqual(['compose-default', 'inline-value', 'quoted']);
  });

  it('holds the development default of the code', () => {
    expect(PUBLISHED_SECRET_VALUES).toContain(DEV_INTERNAL_TOKEN);
    expect(isPublishedSecret(` ${DEV_INTERNAL_TOKEN}\n`)).toBe(true);
    expect(isPublishedSecret('a-real-secret-nobody-has-seen-0123456789')).toBe(false);
  });
});
