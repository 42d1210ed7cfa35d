// `npm test` validates the DICOM SEG objects Lumen writes with dciodvfy, from Debian's dicom3tools
// (libs/segmentation/src/dicom-seg.spec.ts, test/dicom-seg.e2e-spec.ts). Those tests never skip:
// this installs the package with apt-get when dciodvfy is missing and that is allowed (root on
// Debian); otherwise it says how, and the SEG tests fail with the same message.
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const onPath = (tool) => (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, tool)));
if (!onPath('dciodvfy')) {
  if (os.userInfo().uid === 0 && fs.existsSync('/usr/bin/apt-get')) {
    console.log('Installing Debian dicom3tools (dciodvfy) for the DICOM SEG tests (apt-get install dicom3tools)…');
    execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dicom3tools', { stdio: 'inherit' });
  } else {
    console.warn('dciodvfy is missing: install Debian dicom3tools (sudo apt-get install dicom3tools) for the DICOM SEG tests.');
  }
}
