// `npm test` runs the web page's browser tests in Debian's Chromium (Playwright cannot download
// its own browser here). Installs it with apt-get when missing and allowed (root on Debian);
// otherwise says how, and the browser suite fails with the same message.
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

const CHROMIUM = '/usr/bin/chromium';
if (!fs.existsSync(CHROMIUM)) {
  if (os.userInfo().uid === 0 && fs.existsSync('/usr/bin/apt-get')) {
    console.log('Installing Debian chromium for the browser tests (apt-get install chromium)…');
    execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', { stdio: 'inherit' });
  } else {
    console.warn(`${CHROMIUM} is missing: install Debian's chromium (sudo apt-get install chromium) for test/web.e2e-spec.ts.`);
  }
}
