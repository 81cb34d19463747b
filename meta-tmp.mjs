import { build } from 'esbuild';
const [entry, pkg] = process.argv.slice(2);
const r = await build({ entryPoints:[entry], bundle:true, minify:true, format:'cjs', platform:'node', target:'node24', mainFields:['module','main'], write:false, metafile:true, outfile:'/tmp/o.js', logLevel:'silent' });
const out = Object.values(r.metafile.outputs).find(o=>o.entryPoint);

for (const [f,v] of rows) console.log((v.bytesInOutput/1024).toFixed(1).padStart(7), f);
