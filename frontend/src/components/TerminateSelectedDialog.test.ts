import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import TerminateSelectedDialog from './TerminateSelectedDialog.svelte';
import * as api from '../test/fakeApi';
import { resetFake } from '../test/fakeApi';

vi.mock('../lib/api', () => import('../test/fakeApi'));

beforeEach(() => {
  resetFake();
});

const person = (n: number) => ({ id: `u-${n}`, name: `Person ${n}`, email: `p${n}@acme.test` });

async function sentence(people: number, morePeople: number): Promise<string> {
  api.summarizeSelection.mockResolvedValueOnce({
    count: 9,
    active: 9,
    people: Array.from({ length: people }, (_, i) => person(i + 1)),
    morePeople,
    includesMe: false,
  });
  render(TerminateSelectedDialog, { props: { target: { ids: ['s-1'] }, onclose: () => {}, onrest: () => {} } });
  const p = await screen.findByText((_, el) => el?.tagName === 'P' && /^\s*This ends/.test(el.textContent ?? ''));
  return (p.textContent ?? '').replace(/\s+/g, ' ').trim();
}

// At a million sessions the dialog named five people and "49,995 other
// people", and the last two names ran together with the "and":
// "Farah NakamuraKeira Nowakand 49,995 other people".
describe('the people a selection ends', () => {
  it('names them with commas and one "and" before the last', async () => {
    expect(await sentence(3, 0)).toMatch(/^This ends 9 active sessions of Person 1, Person 2 and Person 3\. /);
  });

  it('puts the "and" before the others when there are more than it names', async () => {
    expect(await sentence(5, 49_995)).toMatch(
      /^This ends 9 active sessions of Person 1, Person 2, Person 3, Person 4, Person 5 and 49,995 other people\. /,
    );
  });

  it('one person, and one other', async () => {
    expect(await sentence(1, 1)).toMatch(/^This ends 9 active sessions of Person 1 and 1 other person\. /);
  });
});
