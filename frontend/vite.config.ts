import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  // Wails serves the built files from its own asset server; relative paths
  // keep them working there and under the dev server alike.
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.ts'],
    // Generous: the suite shares two cores with Go builds in CI; a test
    // that is slow is not a test that failed.
    testTimeout: 20_000,
  },
});
