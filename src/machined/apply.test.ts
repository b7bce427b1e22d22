import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineDiff } from './apply.js';

test('lineDiff marks removed then added lines and keeps common ones out', () => {
  assert.equal(lineDiff('a\nb\nc', 'a\nB\nc'), '-b\n+B');
  assert.equal(lineDiff('a\nb', 'a\nb\nc'), '+c');
  assert.equal(lineDiff('a\nb\nc', 'a\nc'), '-b');
  assert.equal(lineDiff('same', 'same'), '');
});
