'use strict';
// Preloaded (`node -r`) into a service to profile (SIGWINCH: Nest's shutdown hooks take SIGUSR2): the first SIGWINCH starts the V8 CPU profiler,
// the second writes the profile to $CPU_PROFILE_FILE and exits — so start-up and warm-up stay out
// of the profile.
const { writeFileSync } = require('node:fs');
const { Session } = require('node:inspector');

let session;
process.on('SIGWINCH', () => {
  if (!session) {
    session = new Session();
    session.connect();
    session.post('Profiler.enable', () => session.post('Profiler.start'));
    return;
  }
  session.post('Profiler.stop', (error, result) => {
    if (!error) writeFileSync(process.env.CPU_PROFILE_FILE, JSON.stringify(result.profile));
    process.exit(error ? 1 : 0);
  });
});
