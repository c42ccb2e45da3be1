/**
 * The test components, shared by the SSR test and the Chromium test (cli/test/react-browser): a
 * counter and a title over one live document, and who is in its presence, written with createElement.
 */
import { createElement as h, type ReactNode } from 'react';
import { useDoc, usePresence } from '../src/index.js';

export function Counter(props: { doc: string }): ReactNode {
  const { state, seq, pending, status, publish } = useDoc(props.doc);
  const count = typeof state.count === 'number' ? state.count : 0;
  return h(
    'div',
    { id: 'counter' },
    h('span', { id: 'count' }, String(count)),
    h('span', { id: 'title' }, String(state.title ?? '')),
    h('span', { id: 'seq' }, String(seq)),
    h('span', { id: 'pending' }, String(pending)),
    h('span', { id: 'status' }, status),
    h('button', { id: 'inc', onClick: () => void publish({ count: count + 1 }).catch(() => {}) }, '+'),
  );
}

/** the doc's presence: member connections and listed users */
export function Who(props: { doc: string }): ReactNode {
  const { connections, users } = usePresence(props.doc);
  return h(
    'div',
    { id: 'who' },
    h('span', { id: 'who-connections' }, String(connections)),
    h('span', { id: 'who-names' }, Object.values(users).map((u) => String(u.info?.name ?? '')).sort().join(',')),
  );
}
