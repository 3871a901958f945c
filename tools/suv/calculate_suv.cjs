// Reads {case: [instance metadata, ...]} (JSON on stdin), writes {case: {factors: [...]}}
// or {case: {error: "..."}} (JSON on stdout): @cornerstonejs/calculate-suv's SUV scaling
// factors, one object {suvbw, suvlbm?, suvlbmJanma?, suvbsa?} per instance.
// Run by tools/dicom_suv_reference.py after `npm ci` in this folder.
const fs = require('fs');
const { calculateSUVScalingFactors } = require('@cornerstonejs/calculate-suv');

console.warn = () => {}; // its notes on a missing PatientSize are not results
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = {};
for (const [name, instances] of Object.entries(input)) {
  try {
    out[name] = { factors: calculateSUVScalingFactors(instances) };
  } catch (e) {
    out[name] = { error: e.message };
  }
}
process.stdout.write(JSON.stringify(out, null, 1));
