import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The web UI is built into ui/dist and served by Veil's HTTP door at / (src/http/static-assets.ts).
// No inline script or style ends up in the output, so the strict Content-Security-Policy holds.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
