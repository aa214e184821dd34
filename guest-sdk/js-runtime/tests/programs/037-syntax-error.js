console.log('never printed because the program does not parse');
let x = ;
