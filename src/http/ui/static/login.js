// Says so when the last token given was wrong (the server sends ?login=failed back).
if (new URLSearchParams(location.search).get('login') === 'failed') document.getElementById('failed').hidden = false;
