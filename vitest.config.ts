import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: integration tests share ffmpeg and onnxruntime; run files one at a time.
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
  },
});
