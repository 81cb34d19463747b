import { build } from 'esbuild';
const [entry] = process.argv.slice(2);
const r = await build({ entryPoints:[entry], bundle:true, minify:true, format:'cjs', platform:'node', target:'node24', mainFields:['module','main'], write:false, metafile:true, outfile:'/tmp/o.js', logLevel:'silent' });
const out = Object.values(r.metafile.outputs).find(o=>o.entryPoint);
const by = {};
for (const [f,v] of Object.entries(out.inputs)) { if (f.includes('dist-cjs')) by['CJS '+f.split('/').slice(0,4).join('/')]=(by['CJS '+f.split('/').slice(0,4).join('/')]||0)+v.bytesInOutput;
 const m=f.match(/@smithy\/core\/dist-es\/(submodules\/[^/]+|[^/]+)/); if(m) by[m[1]]=(by[m[1]]||0)+v.bytesInOutput; }
for (const [k,v] of Object.entries(by).sort((a,b)=>b[1]-a[1])) console.log((v/1024).toFixed(1).padStart(7), k);
