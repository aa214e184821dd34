console.log('one');
process.stdout.write('partial line ');
process.stdout.write('done\n');
setTimeout(() => console.log('never printed'), 0);
process.exit(3);
